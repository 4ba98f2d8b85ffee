from components.wechat_pay import models, notify, provider, reconcile
from components.wechat_pay.provider import NAME, SEND_REFUND_JOB
from components.wechat_pay.service import WeChatPay
from core.hookspecs import hookimpl


@hookimpl
def dougong_tables(registrar):
    registrar.table(models.Notification)
    registrar.table(models.Refund)


@hookimpl
def dougong_services(registrar):
    registrar.service("wechat_pay", WeChatPay(registrar.kernel, registrar.settings))


@hookimpl
def dougong_payment_provider(kernel, provider):
    return kernel.service("wechat_pay").provider if provider == NAME else None  # None while unconfigured


@hookimpl
def dougong_webhooks(registrar):
    registrar.webhook("notify", notify.handle)


@hookimpl
def dougong_jobs(registrar):
    service = registrar.kernel.service("wechat_pay")
    registrar.job(SEND_REFUND_JOB, provider.send_refund)  # the module's job function
    registrar.job(reconcile.ONE_JOB, reconcile.reconcile_one)
    registrar.every(reconcile.SWEEP_JOB, service.reconcile_every, reconcile.sweep)


@hookimpl
def dougong_event_handlers(registrar):
    registrar.on("order.cancelled", reconcile.close_for_cancelled_order)


@hookimpl
def dougong_events(registrar):
    registrar.event(
        "wechat_pay.refund_failed",
        "WeChat Pay refused or abandoned a refund: staff must return the money another way",
        payload={
            "outRefundNo": "str",
            "outTradeNo": "str",
            "amountMinor": "int",
            "status": "str: refused, ABNORMAL or CLOSED",
            "error": "str | None",
        },
    )


@hookimpl
def dougong_error_codes(registrar):
    for code, text in {
        "WECHAT_PAY_NO_OPENID": "The member has no WeChat openid (signed in another way); WeChat Pay needs one.",
        "WECHAT_PAY_REFUSED": "WeChat Pay refused the payment; details carry its code.",
        "WECHAT_PAY_UNAVAILABLE": "WeChat Pay did not answer; nothing was charged, try again.",
    }.items():
        registrar.error_code(code, text)
