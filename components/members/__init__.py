from components.members.settings import SCHEMA
from registry.manifest import Manifest

manifest = Manifest(
    name="members",
    version="1.0.0",
    summary="Members (customers) and staff with roles, staff administration; development, WeChat mini-program and one-time staff-code sign-in",
    hooks="components.members.hooks",
    kernel=">=0.1,<1",
    settings_schema=SCHEMA,
)
