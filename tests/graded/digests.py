"""Answer keys that the graded tests check against without holding the answers, so that they can ship to
students: for each list of paths in a key, a salt and the sorted SHA-256 digests of salt + path.

``data/make_data.py`` writes ``tests/graded/keys/<exercise>.json`` beside the instructors' key, which never
ships; why one digest per path and not one of the whole list is in the docstring of the test that reads it.
"""
import hashlib
import json

from tbcourse.settings import GRADED_KEYS


def path_digest(salt: str, path: str) -> str:
    return hashlib.sha256(f"{salt}{path}".encode()).hexdigest()


def digest_key(key: dict[str, list[str]], seed: int) -> dict:
    """The digests of each list of ``key``, salted by the data's ``seed`` and the list's name."""
    out = {}
    for name, paths in key.items():
        salt = hashlib.sha256(f"{seed} {name}".encode()).hexdigest()[:16]
        out[name] = {"salt": salt, "sha256": sorted(path_digest(salt, path) for path in paths)}
    return out


def key_file(exercise: str):
    return GRADED_KEYS / f"{exercise}.json"


def load(exercise: str) -> dict:
    return json.loads(key_file(exercise).read_text(encoding="utf-8"))
