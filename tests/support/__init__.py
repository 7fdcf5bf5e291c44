"""What the tests share that is not a fixture: helpers, fakes and constants.

The fixtures themselves are all in ``tests/conftest.py``; they build on these modules.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the project's root folder
