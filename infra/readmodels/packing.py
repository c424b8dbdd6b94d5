"""JSON text packed small for DynamoDB, where every started kilobyte of an item is paid for.

A view's state (a round's sheet, say) is JSON whose keys repeat from round to round. Raw
DEFLATE with a preset dictionary of those keys packs a 20-agency sheet of 7 KB into under
600 bytes, so a stream's checkpoint item stays within one kilobyte (one write unit, two in a
transaction) instead of eight.

The first byte names the format; a format, once stored, is never changed: a better
dictionary is a new format byte, and every format stays readable.
"""

from __future__ import annotations

import zlib
from typing import Final

_RAW_DEFLATE: Final = -15  # no zlib header nor checksum: the format byte says what it is
_LEVEL: Final = 9
# Format 1: DEFLATE with this dictionary. Its words are the sheet's keys and fixed values
# (`infra/readmodels/views/sheet.py`), nothing of any round; later words compress best.
_DICTIONARY_1: Final = (
    b'"state":"cancelled""state":"closed""state":"running""state":"selection""state":"open"'
    b'T09:00:00ZT17:00:00Z"status":"withdrawn","status":"waitlisted","status":"rejected",'
    b'"plan":{"title":"","revision":1,"submitted_at":"","revised_at":null,"late":false,'
    b'"due_at":"","days_late":0}{"org_numbers":["",""],"theme":"","dissolved":false,'
    b'"dissolved_reason":null,"plan":null,"presented_at":null}"status":"admitted",'
    b'{"agency_name":"","status":"applied","applied_at":"","case_number":"","pair_id":"pair-'
    b'{"round_id":"","number":,"title":"","state":"scheduled","dates":{"application_opens_at":"",'
    b'"application_closes_at":"","starts_at":"","plan_due_at":"","closes_at":""},"capacity":,'
    b'"themes":["digitalisering","attraktiv arbetsgivare","delaktighet"],"deadline_passed":false,'
    b'"roles":{"director_general":,"leadership_member":},"agencies":{},"pairs":{}'
)
_FORMATS: Final = {1: _DICTIONARY_1}
_CURRENT: Final = 1


class UnknownPackingError(ValueError):
    """Bytes this code cannot unpack (a format byte it does not know)."""


def pack(text: str) -> bytes:
    """The text, packed in the current format."""
    packer = zlib.compressobj(
        _LEVEL,
        zlib.DEFLATED,
        _RAW_DEFLATE,
        zlib.DEF_MEM_LEVEL,
        zlib.Z_DEFAULT_STRATEGY,
        _FORMATS[_CURRENT],
    )
    return bytes([_CURRENT]) + packer.compress(text.encode()) + packer.flush()


def unpack(packed: bytes) -> str:
    """The text `pack` was given, whichever format packed it."""
    dictionary = _FORMATS.get(packed[0]) if packed else None
    if dictionary is None:
        raise UnknownPackingError(f"unknown packing format {packed[:1]!r}")
    unpacker = zlib.decompressobj(_RAW_DEFLATE, dictionary)
    return (unpacker.decompress(packed[1:]) + unpacker.flush()).decode()
