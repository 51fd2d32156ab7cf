"""The platform's settings plus one line: the throwaway app (tests/core/test_app_contract.py)."""

from siyu.settings import *  # noqa: F403
from siyu.settings import INSTALLED_APPS

INSTALLED_APPS = [*INSTALLED_APPS, "tests.support.throwaway"]
