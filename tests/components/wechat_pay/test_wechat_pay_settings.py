"""WeChat Pay's secrets come only from the environment, and keys that do not load stop the boot."""

from __future__ import annotations

import pytest
from fake_wechat_pay import API_V3_KEY, new_key, private_pem, public_pem
from typer.testing import CliRunner

import core.cli
from core.errors import BootError

BLUEPRINT = """\
dougong: 1
brand: {slug: tea, name: Tea, currency: CNY, timezone: Asia/Shanghai}
components:
  orders: {}
  wechat_pay:
    mch_id: "1900000109"
    app_id: wx0123456789abcdef
    merchant_serial_no: ABC
    private_key: PRIVATE
    api_v3_key: APIV3
    platform_public_key: ${WXPAY_TEST_PLATFORM_KEY}
    platform_public_key_id: PUB_KEY_ID_1
    notify_url: https://tea.example/webhooks/wechat_pay/notify
"""


@pytest.fixture(scope="module")
def key():
    return new_key()


def test_validate_flags_wechat_pay_secrets_written_in_the_blueprint(tmp_path, monkeypatch, key):
    monkeypatch.setenv("WXPAY_TEST_PLATFORM_KEY", public_pem(key))
    literal = tmp_path / "literal.yaml"
    literal.write_text(BLUEPRINT.replace("PRIVATE", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC").replace("APIV3", API_V3_KEY))
    result = CliRunner().invoke(core.cli.app, ["validate", str(literal)])
    flagged = [line for line in result.output.splitlines() if "a secret is written in the blueprint" in line]
    assert result.exit_code == 1 and len(flagged) == 2, result.output
    assert "components.wechat_pay.private_key" in flagged[0] and "components.wechat_pay.api_v3_key" in flagged[1]
    assert API_V3_KEY not in result.output  # never echoed


async def test_a_key_that_does_not_load_stops_the_boot(kernel_factory, monkeypatch, key):
    monkeypatch.setenv("WXPAY_TEST_PLATFORM_KEY", public_pem(key))
    monkeypatch.setenv("WXPAY_TEST_PRIVATE_KEY", "not a key at all")
    monkeypatch.setenv("WXPAY_TEST_API_V3_KEY", API_V3_KEY)
    blueprint = BLUEPRINT.replace("PRIVATE", "${WXPAY_TEST_PRIVATE_KEY}").replace("APIV3", "${WXPAY_TEST_API_V3_KEY}")
    with pytest.raises(BootError, match="component 'wechat_pay': a key in its settings does not load"):
        await kernel_factory(blueprint)
    monkeypatch.setenv("WXPAY_TEST_PRIVATE_KEY", private_pem(key))
    kernel = await kernel_factory(blueprint)
    assert kernel.pm.hook.dougong_payment_provider(kernel=kernel, provider="wechat_pay").name == "wechat_pay"


async def test_unconfigured_it_loads_without_a_provider_and_half_configured_is_refused(kernel_factory):
    kernel = await kernel_factory(BLUEPRINT.split("  wechat_pay:")[0] + "  wechat_pay: {}\n")
    assert kernel.pm.hook.dougong_payment_provider(kernel=kernel, provider="wechat_pay") is None
    with pytest.raises(Exception, match="'app_id' is a dependency of 'mch_id'"):
        await kernel_factory(BLUEPRINT.split("  wechat_pay:")[0] + '  wechat_pay: {mch_id: "1900000109"}\n')
