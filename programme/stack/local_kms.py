"""The local KMS key that wraps each person's data key, kept across restarts.

moto makes a new key (new id, new material) at every start; a wrapped data key names its
KMS key and was encrypted with that key's material, so sealed data would never open again.
With a data folder the first start's key id and material are kept there (mode 0600), and
each later start gives moto's new key that id and material (moto's own `Key` model: the
lock file pins moto's version).
"""

from __future__ import annotations

from moto.core.models import DEFAULT_ACCOUNT_ID
from moto.kms.models import kms_backends

from programme.stack.data_dir import DataDir
from programme.stack.environment import REGION


def keep_kms_key(data: DataDir, key_id: str) -> str:
    """The key id the handlers use: the one kept in `data`, or `key_id`'s, now kept."""
    backend = kms_backends[DEFAULT_ACCOUNT_ID][REGION]
    key = backend.keys[key_id]
    saved = data.kms_key()
    if saved is None:
        data.keep_kms_key(key.id, key.key_material)
        return key_id
    saved_id, material = saved
    del backend.keys[key_id]
    key.id = saved_id
    key.arn = f"{key.arn.rsplit('/', 1)[0]}/{saved_id}"
    key.key_material = material
    backend.keys[saved_id] = key
    return saved_id
