"""inspect_variable on tables (issue 19 G5/G6): every kind of pandas Series is described
(each failed with "multiple values for 'name'" before), and credentials that are not in the
environment are hidden by value: columns named like a credential, Bearer tokens, database
URLs with passwords. The inputs here are not those of the repro script the fix was made on."""

from __future__ import annotations

import pandas as pd
import polars as pl
import pytest

from mira_jupyter.tools.dispatch import dispatch
from mira_jupyter.tools.inspect_variable import UserNamespace, inspect_variable
from mira_jupyter.tools.types import ToolContext, ToolResult


def inspect(value: object) -> ToolResult:
    ctx = ToolContext(sandbox=None, extra={"namespace": UserNamespace({"thing": value})})
    return dispatch({"inspect_variable": inspect_variable}, "inspect_variable", {"name": "thing"}, ctx)


@pytest.mark.parametrize(
    ("series", "dtype", "shown"),
    [
        (pd.Series([10, 20, 30]), "int64", "20"),
        (pd.Series(["north", None], name="region"), None, "north"),
        (pd.Series(pd.Categorical(["lo", "hi", "lo"]), name="level"), "category", "hi"),
        (pd.Series([0.5, 1.5], index=pd.to_datetime(["2023-05-01", "2023-06-01"]), name=("a", 1)), "float64", "2023-06-01"),
        (pd.Series([True, False], index=pd.MultiIndex.from_tuples([("x", 1), ("y", 2)])), "bool", "False"),
    ],
)
def test_every_kind_of_pandas_series_is_described(series, dtype, shown):
    result = inspect(series)
    assert result.status == "ok", result.content
    content = result.content
    assert content["name"] == "thing" and content["type"] == "pandas.Series" and content["len"] == len(series)
    assert content["series_name"] == repr(series.name)
    assert dtype is None or content["dtype"] == dtype
    assert shown in content["head"] and content["null_count"] == int(series.isna().sum())


def test_polars_frames_and_series_are_described():
    frame = pl.DataFrame({"day": [1, 2, None], "label": ["mon", "tue", "wed"]})
    content = inspect(frame).content
    assert content["shape"] == [3, 2] and content["columns"] == {"'day'": "Int64", "'label'": "String"}
    assert content["null_counts"] == {"'day'": 1} and "tue" in content["head"]
    content = inspect(pl.Series("speed", [3.0, None])).content
    assert content["len"] == 2 and content["null_count"] == 1 and content["series_name"] == "'speed'"


def test_credential_columns_are_hidden_by_value_in_pandas_frames():
    frame = pd.DataFrame(
        {
            "login": ["maria", "omar"],
            "userPassword": ["c0rrect-h0rse-battery", "Zebra!Crossing#44"],
            "stripe_api_key": ["rk_live_51Hh2kQ9pLmN", "rk_live_77Jj3rT2vBxC"],
            "refresh_token": pd.Categorical(["1//0gLq-refresh-xyz", "1//0gLq-refresh-abc"]),
            "score": [0.1, 0.2],
        }
    )
    result = inspect(frame)
    shown = str(result.content)
    for secret in ("c0rrect", "Zebra!", "rk_live", "refresh-xyz", "refresh-abc"):
        assert secret not in shown, secret
    assert "maria" in shown and "0.2" in result.content["head"] and result.content["head"].count("[hidden]") == 6
    assert "'userPassword'" in result.content["columns"]  # names and dtypes stay: they are not secret


def test_credentials_in_ordinary_columns_index_and_repeated_labels_are_hidden():
    frame = pd.DataFrame(
        [["GET /a", "Bearer 9f8e7d6c5b4a39281706", "mongodb+srv://etl:Wint3r-Is-Coming@cluster0.example.net/app"]],
        columns=["req", "header", "req"],
    )
    frame.index = pd.Index(["sk-ant-api03-qwertyuiopasdfghjkl"], name="row")
    shown = str(inspect(frame).content)
    assert "9f8e7d6c5b4a" not in shown and "Wint3r" not in shown and "qwertyuiop" not in shown
    assert "GET /a" in shown and "etl:[hidden]@cluster0" in shown
    wide = pd.DataFrame({("login", "secret"): ["tuple-label-secret-1"], ("login", "user"): ["kim"]})
    shown = str(inspect(wide).content)
    assert "tuple-label-secret" not in shown and "kim" in shown
    keyed = pd.DataFrame({"v": [1]}, index=pd.Index(["idx-secret-9876"], name="session_token"))
    assert "idx-secret" not in str(inspect(keyed).content)


def test_credential_series_and_polars_columns_are_hidden():
    assert "tiger-lily-42" not in str(inspect(pd.Series(["tiger-lily-42"], name="db_passwd")).content)
    urls = pd.Series(["amqp://guest:rabbit-pass-55@mq:5672/"], name="broker")
    assert "rabbit-pass" not in str(inspect(urls).content)
    frame = pl.DataFrame({"host": ["h1"], "clientSecret": ["pl-secret-0a1b2c3d"], "hdr": ["bearer q1w2e3r4t5y6u7i8"]})
    shown = str(inspect(frame).content)
    assert "pl-secret" not in shown and "q1w2e3r4" not in shown and "h1" in shown
    assert "s3-token-77" not in str(inspect(pl.Series("aws_session_token", ["s3-token-77"])).content)


@pytest.mark.parametrize(
    ("text", "hidden"),
    [
        ("curl -H 'Authorization: Bearer ya29.a0AfH6SMBx-long-token'", "ya29.a0AfH6"),
        ("authorization=Basic dXNlcjpzZWNyZXQ=", "dXNlcjpzZWNyZXQ"),
        ("{'Proxy-Authorization': 'Digest 55c0ffee11'}", "55c0ffee11"),
        ("engine = create_engine('postgresql+psycopg://svc:p%40ss%2Fword@db:5432/x')", "p%40ss"),
        ("redis://:only-a-password-1@cache:6379", "only-a-password"),
        ("ftp://ann:a@b@c@files.example.org/pub", "a@b@c"),
        ("key: ghp_" + "A1b2C3d4E5f6G7h8I9j0K1l2", "A1b2C3d4E5"),
        ("AKIAIOSFODNN7EXAMPLE is the id", "IOSFODNN7"),
        ("-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\n-----END RSA PRIVATE KEY-----", "MIIEowIBAAKCAQEA"),
    ],
)
def test_credentials_are_recognised_by_their_shape(text, hidden):
    from mira_jupyter.tools.inspect_guard import mask_values

    assert hidden not in mask_values(text)


@pytest.mark.parametrize(
    "text",
    [
        "the bearer of bad news",
        "Basic usage: see the docs",
        "http://example.com:8080/path?q=1",
        "https://user@example.com/repo.git",
        "ssh://git@github.com/org/repo",
        "sk-short",
        "tokenizer = load('bert')",
    ],
)
def test_ordinary_text_is_left_as_it_is(text):
    from mira_jupyter.tools.inspect_guard import mask_values

    assert mask_values(text) == text


def test_credentials_in_headers_connection_and_query_strings_are_hidden():
    # found by the self-review with inputs the masks were not written for
    frame = pd.DataFrame(
        {
            "hdr": ["X-Api-Key: 12345-abcde-67890"],
            "conn": ["Server=db;User Id=sa;Password=Pa55w0rd!;"],
            "jdbc": ["jdbc:postgresql://db:5432/app?user=app&password=s3cr3tJDBC"],
            "cfg": ["AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY and a long tail"],
        }
    )
    shown = str(inspect(frame).content)
    for secret in ("12345-abcde", "Pa55w0rd", "s3cr3tJDBC", "wJalrXUtn"):
        assert secret not in shown, secret
    assert "Server=db" in shown and "jdbc:postgresql://db" in shown


def test_one_word_credential_names_and_multiindex_levels_are_hidden() -> None:
    """r11d F2, F3: PGPASSWORD, apitoken and dbpassword were shown; so was a (user, password) row index."""
    import pandas as pd

    from mira_jupyter.tools.inspect_guard import is_credential_name

    for name in ("PGPASSWORD", "apitoken", "accesstoken", "dbpassword", "passWord"):
        assert is_credential_name(name), name
    for name in ("tokenizer", "max_tokens", "secretary", "n_tokens", "keys", "author"):
        assert not is_credential_name(name), name
    frame = pd.DataFrame({"user": ["ada"], "password": ["hunter2XYZ"], "n": [1]}).set_index(["user", "password"])
    info: dict = {}
    from mira_jupyter.tools.inspect_frames import describe_pandas

    assert describe_pandas(frame, type(frame), info)
    assert "hunter2XYZ" not in info["head"] and "ada" in info["head"]


def test_a_credential_keys_value_of_any_type_is_hidden_whole_in_nested_containers() -> None:
    """r11d F1: b'…', […] and (…) values under a nested credential key lost one character."""
    from mira_jupyter.tools.inspect_guard import mask_credentials

    for value in ("b'hunter2XYZ'", "['hunter2XYZ', 'x']", "('hunter2XYZ',)", "{'v': [1, (2, ']')], 'w': 'hunter2XYZ'}"):
        text = mask_credentials(f"{{'db': {{'password': {value}, 'host': 'db.local'}}, 'n': 1}}")
        assert "hunter2XYZ" not in text and "'host': 'db.local'" in text and "'n': 1" in text, text
    assert mask_credentials("{'tokenizer': [1, 2]}") == "{'tokenizer': [1, 2]}"


def test_authorization_headers_and_columns_are_hidden_whatever_their_scheme() -> None:
    """r11d F10: {"Authorization": "Basic …"} and an Authorization column were shown."""
    import pandas as pd

    from mira_jupyter.tools.inspect_frames import describe_pandas
    from mira_jupyter.tools.inspect_guard import is_credential_name, mask_credentials

    for name in ("Authorization", "Proxy-Authorization", "WWW-Authenticate", "authorization"):
        assert is_credential_name(name), name
    text = mask_credentials("{'Authorization': 'Basic aHVudGVyMlhZWjpwdw==', 'Accept': 'json'}")
    assert "aHVudGVyMlhZWjpwdw" not in text and "'Accept': 'json'" in text
    frame = pd.DataFrame({"url": ["/a"], "Authorization": ["token ghx_hunter2XYZ"]})
    info: dict = {}
    assert describe_pandas(frame, type(frame), info)
    assert "hunter2XYZ" not in info["head"] and "/a" in info["head"]


def test_a_url_password_holding_an_unencoded_hash_or_slash_is_hidden() -> None:
    """r11d F4: the password stopped at '#' or '/', so the whole URL was shown."""
    from mira_jupyter.tools.inspect_guard import mask_values

    for url in ("postgresql://ada:hunter2XYZ#1@db/app", "redis://:hunter2XYZ/a@cache:6379"):
        assert "hunter2XYZ" not in mask_values(url), url
    assert mask_values("see http://example.com/a and x@y") == "see http://example.com/a and x@y"
