"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Store pickup: nearest stores",
        """\
query NearestPickupStores {
  pickupStoresNear(latitude: 31.2304, longitude: 121.4737, first: 5, openOnly: false) {
    distanceMeters
    store { id name address openNow }
  }
}
""",
    )
    registrar.example(
        "Store pickup: my orders with their pickup codes and stores",
        """\
query MyOrdersWithPickup {
  myOrders(first: 5) {
    nodes { id status pickup { state code qrPayload expiresAt } pickupStore { name address openNow } }
  }
}
""",
    )
