from registry.manifest import Manifest

manifest = Manifest(
    name="members",
    version="1.0.0",
    summary="Members (customers) and staff with roles; development sign-in and identity-provider hook",
    hooks="components.members.hooks",
    kernel=">=0.1,<1",
    settings_schema={"type": "object", "additionalProperties": False, "properties": {
        "phone_search_min_digits": {
            "type": "integer", "minimum": 7, "maximum": 11, "default": 11,
            "description": "staff find a member by phone prefix of at least this many digits (11: the whole number only)",
        },
    }},
)
