# The payment-provider interface is public: provider components (wechat_pay) import it from here.
from components.orders.payments import Charge, PaymentProvider, ProviderStatus
from core.units import DURATION_SCHEMA, MONEY_SCHEMA
from registry.manifest import Manifest

__all__ = ["Charge", "PaymentProvider", "ProviderStatus", "manifest"]

manifest = Manifest(
    name="orders",
    version="1.0.0",
    summary="Orders with a price pipeline, payments (sandbox provider), cancel, refund, payment timeout",
    titles={"zh": "订单", "en": "Orders"},
    summaries={
        "zh": "订单、价格管道、支付（沙箱支付方式）、取消、退款、支付超时",
        "en": "Orders with a price pipeline, payments (sandbox provider), cancel, refund, payment timeout",
    },
    hooks="components.orders.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "addCartLine": "member",
        "addShippingAddress": "member",
        "approveRefundRequest": "orders.refund",
        "cancelOrder": "member or staff",
        "cancelRefundRequest": "member",
        "completeOrder": "member or staff",
        "createOrder": "member",
        "fulfilOrder": "orders.fulfil",
        "myCart": "member",
        "myOrders": "member",
        "myShippingAddresses": "member",
        "order": "public",
        "orders": "orders.view",
        "payOrder": "member or staff",
        "placeOrder": "member",
        "previewCheckout": "member",
        "receiveReturnedGoods": "orders.refund",
        "refundOrder": "orders.refund",
        "refundRequests": "orders.view",
        "rejectRefundRequest": "orders.refund",
        "removeCartLine": "member",
        "removeShippingAddress": "member",
        "requestRefund": "member",
        "sandboxSettlePayment": "member or staff",
        "sandboxSettlePaymentIntent": "member or staff",
        "shipOrder": "orders.fulfil",
        "updateCartLine": "member",
        "updateShippingAddress": "member",
    },
    moves={
        "approveRefundRequest": "money",
        "cancelOrder": "money+stock",
        "createOrder": "money+stock",
        "payOrder": "money",
        "placeOrder": "money+stock",
        "receiveReturnedGoods": "money+stock",
        "refundOrder": "money+stock",
        "shipOrder": "stock",
    },
    depends={"catalog": ">=1.0,<2", "inventory": ">=1.0,<2", "members": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "payment_timeout": {**DURATION_SCHEMA, "default": "30m"},
            "max_lines": {"type": "integer", "minimum": 1, "maximum": 200, "default": 50, "description": "the most lines one order may have"},
            "max_quantity": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 999, "description": "the largest quantity of one line"},
            "sandbox_payments": {"type": "boolean", "default": True, "description": "offer the sandbox provider (always off in production)"},
            "after_sale_window": {
                **DURATION_SCHEMA,
                "default": "7d",
                "description": "how long after completion a member may still ask for a refund (售后)",
            },
            "auto_complete_after": {
                **DURATION_SCHEMA,
                "default": "10d",
                "description": "a fulfilled order completes by itself this long after shipping",
            },
            "shipping_address": {
                "enum": ["optional", "required"],
                "default": "optional",
                "description": "whether a shipping order must choose an address at checkout",
            },
            "shipping_fee": {
                "type": "object",
                "additionalProperties": False,
                "required": ["flat"],
                "description": "a delivery fee for shipping orders (price stage delivery)",
                "properties": {
                    "flat": {**MONEY_SCHEMA, "description": 'the fee, e.g. "8.00"'},
                    "free_over": {**MONEY_SCHEMA, "description": "no fee when the goods come to at least this"},
                },
            },
        },
    },
)
