from pathlib import Path

import pytest

from app.config import load_settings
from sync.erp.address import ConfigError, ErpAddress


def test_erp_url_is_parsed_into_its_parts():
    erp = ErpAddress.parse("http://clerk:s%40cret@erp.example:8443/returns")
    parts = (erp.scheme, erp.host, erp.port, erp.database, erp.user)
    assert parts == ("http", "erp.example", 8443, "returns", "clerk")
    assert erp.password == "s@cret"


def test_redacted_url_and_repr_never_show_the_password():
    erp = ErpAddress.parse("https://admin:hunter2@10.0.0.5:8000/returns")
    assert "hunter2" not in erp.redacted()
    assert "hunter2" not in repr(erp)
    assert erp.redacted() == "https://admin:***@10.0.0.5:8000/returns"


def test_url_round_trips_through_parse():
    erp = ErpAddress(host="::1", port=8123, user="a b", password="p:w/d")
    assert ErpAddress.parse(erp.url()) == erp


@pytest.mark.parametrize(
    "url, words",
    [
        ("ftp://a:b@host/returns", "must look like http://"),
        ("http://a:b@host:8000/", "must end with the database name"),
        ("http://a:b@host:99999/returns", "bad port"),
    ],
)
def test_bad_erp_url_says_what_is_wrong(url, words):
    with pytest.raises(ConfigError, match=words):
        ErpAddress.parse(url)


def test_flags_override_environment(tmp_path):
    env = {"STATION_DATA_DIR": "/nowhere", "STATION_ID": "dock-9", "STATION_ERP_URL": "http://u:p@h:1/db"}
    settings = load_settings(data_dir=tmp_path, station_id="dock-2", environ=env)
    assert settings.data_dir == tmp_path
    assert settings.station_id == "dock-2"
    assert settings.erp.host == "h"


def test_environment_sets_data_dir_and_erp_password_default(tmp_path):
    settings = load_settings(environ={"STATION_DATA_DIR": str(tmp_path), "STATION_ERP_PASSWORD": "pw"})
    assert settings.store_path == Path(tmp_path) / "station.sqlite"
    assert settings.erp_data_dir == Path(tmp_path) / "erp"
    assert settings.erp.password == "pw"
    assert settings.erp.port == 8000 and settings.erp.database == "returns"
