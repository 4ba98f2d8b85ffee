"""Example operations the studio's sandbox opens in GraphiQL (checked against the schema at boot)."""

from core.hookspecs import hookimpl


@hookimpl
def dougong_examples(registrar):
    registrar.example(
        "Catalog: products on sale",
        """\
query CatalogProducts {
  products(first: 10) {
    nodes {
      id title status category { name } attributeValues { name value }
      skus { title image specValues { name value } price { amount currency } }
    }
    pageInfo { hasNextPage endCursor }
  }
}
""",
    )
    registrar.example(
        "Catalog: category tree",
        """\
query CatalogCategories {
  categories { id name children { id name } }
}
""",
    )
