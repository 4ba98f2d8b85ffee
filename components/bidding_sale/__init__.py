from core.units import DURATION_SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="bidding_sale",
    version="1.0.0",
    summary="竞价销售: ascending auctions with proxy bids, reserve, buy-now, deposits and soft close",
    titles={"zh": "竞价拍卖", "en": "Auctions"},
    summaries={
        "zh": "增价拍卖：代理出价、保留价、一口价、保证金与延时成交",
        "en": "Ascending auctions with proxy bids, reserve, buy-now, deposits and soft close",
    },
    hooks="components.bidding_sale.hooks",
    kernel=">=0.1,<1",
    # Who may call each root field, and the mutations that move money, stock or points (dougong check).
    access={
        "auctionLot": "public",
        "auctionLotUpdates": "public",
        "auctionLots": "public",
        "buyNow": "member",
        "cancelAuctionLot": "bidding_sale.manage",
        "createAuctionLot": "bidding_sale.manage",
        "myAuctionLots": "member",
        "myAuctions": "member",
        "payLotDeposit": "member",
        "placeBid": "member",
        "scheduleAuctionLot": "bidding_sale.manage",
    },
    moves={
        "buyNow": "money",
        "cancelAuctionLot": "money",
        "payLotDeposit": "money",
        "placeBid": "money",
    },
    depends={"orders": ">=1.0,<2"},
    settings_schema={
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "payment_due": {**DURATION_SCHEMA, "default": "24h", "description": "how long the winner has to pay (a lot may set its own)"},
            "extend_window": {**DURATION_SCHEMA, "default": "60s", "description": "a bid this close to the end extends it (a lot may set its own)"},
            "extend_by": {**DURATION_SCHEMA, "default": "120s", "description": "the new end is the bid's time plus this (a lot may set its own)"},
            "max_extensions": {
                "type": "integer",
                "minimum": 0,
                "maximum": 1000,
                "default": 10,
                "description": "how many times late bids may extend one lot's close (soft close; a lot may set its own)",
            },
            "offer_runner_up": {
                "type": "boolean",
                "default": False,
                "description": "when a winner defaults, offer the lot to the runner-up at their highest bid",
            },
        },
    },
)
