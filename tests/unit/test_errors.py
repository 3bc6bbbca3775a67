"""The exception tree: one MiraError root, every name in mira_jupyter.errors resolves to it."""

import importlib
import subprocess
import sys

import pytest
from IPython.core.error import UsageError

import mira_jupyter.errors as errors


@pytest.mark.parametrize("name", errors.__all__)
def test_every_error_is_a_mira_error_and_is_named_in_the_tree(name):
    cls = getattr(errors, name)
    assert issubclass(cls, errors.MiraError)
    assert name in errors.__doc__, f"{name} is missing from the tree in errors.py's docstring"


def test_every_class_the_package_raises_on_purpose_is_exported():
    # each module's own exception classes (public, subclassing Exception) must be in the tree
    homes = {importlib.import_module(f"mira_jupyter{home}") for home in set(errors._HOMES.values())}
    for module in homes:
        for name, value in vars(module).items():
            if (
                isinstance(value, type)
                and issubclass(value, Exception)
                and value.__module__ == module.__name__
                and not name.startswith("_")
            ):
                assert name in errors.__all__, f"{module.__name__}.{name} is not in mira_jupyter.errors"


def test_usage_error_is_ipythons_and_ours():
    assert issubclass(errors.MiraUsageError, UsageError)
    assert issubclass(errors.SubcommandError, errors.MiraUsageError)


def test_importing_the_tree_loads_no_heavy_dependency():
    code = (
        "import sys, mira_jupyter.errors\n"
        "heavy = [m for m in ('openai', 'httpx', 'duckdb', 'ipywidgets', 'IPython') if m in sys.modules]\n"
        "print(heavy)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.strip() == "[]", out.stderr


def test_an_unknown_name_is_an_attribute_error():
    with pytest.raises(AttributeError):
        errors.NoSuchError  # noqa: B018


@pytest.mark.parametrize(
    ("name", "builtin"),
    [("ProjectRootRefused", ValueError), ("UndoRootMismatch", LookupError), ("StoreUnavailable", RuntimeError)],
)
def test_the_errors_raised_for_the_user_are_in_the_tree_and_keep_their_builtin_base(name, builtin):
    # ProjectRootRefused and UndoRootMismatch reach the user, yet `except MiraError` missed them
    assert name in errors.__all__
    cls = getattr(errors, name)
    assert issubclass(cls, errors.MiraError) and issubclass(cls, builtin)
    assert name in errors.__doc__
