"""The student release (`make release DEST=dir`): what the graded tests ship instead of the answer key."""
import json
import sys

from tbcourse.settings import GRADED_TESTS, KEYS

sys.path.insert(0, str(GRADED_TESTS))
from digests import load, path_digest  # noqa: E402 - the graded tests' own digest rule


def test_the_digests_02_6_checks_are_those_of_the_answer_key():
    key, digests = json.loads((KEYS / "faces_review.json").read_text(encoding="utf-8")), load("02.6")
    assert set(digests) == {"mislabeled", "leaked"}, f"02.6 checks two lists, the digest file has {sorted(digests)}"
    for name, entry in digests.items():
        assert entry["sha256"] == sorted(path_digest(entry["salt"], path) for path in key[name]), \
            f"{name}: the digests are not those of the key's list: rerun data/make_data.py"
