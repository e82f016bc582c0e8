"""JPEG and MP4 bytes for the simulated cameras, generated in pure Python.

The JPEG encoder writes baseline (SOF0) images whose 8x8 blocks each have one flat
colour, so every block needs only its DC coefficient. That keeps encoding cheap while
any standard decoder can still decode the result.
"""

from __future__ import annotations

import hashlib
import struct
from functools import lru_cache

IMAGE_WIDTH = 64
IMAGE_HEIGHT = 48
OVERSIZE_MIN_BYTES = 2 * 1024 * 1024 + 1

# Typical luminance DC table from the JPEG standard (ITU-T T.81 Annex K.3): code counts
# for lengths 1..16 and the magnitude categories 0..11 they encode.
_DC_CODE_COUNTS = (0, 1, 5, 1, 1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0)
_DC_SYMBOLS = tuple(range(12))
# All AC coefficients are zero, so the AC table needs only EOB (0x00). ZRL (0xF0) is
# listed as well so that no code consists only of 1-bits.
_AC_CODE_COUNTS = (0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
_AC_SYMBOLS = (0x00, 0xF0)
_END_OF_BLOCK = 0x00
# With a DC quantiser of 8 the quantised DC equals the block mean minus 128.
_QUANTISER = 8
_MAX_SEGMENT_PAYLOAD = 65533


def _canonical_codes(code_counts: tuple[int, ...], symbols: tuple[int, ...]) -> dict[int, tuple[int, int]]:
    """Map each symbol to its (code, bit length) as JPEG's canonical Huffman order defines."""
    codes: dict[int, tuple[int, int]] = {}
    code = 0
    symbol_index = 0
    for length_minus_one, count in enumerate(code_counts):
        for _ in range(count):
            codes[symbols[symbol_index]] = (code, length_minus_one + 1)
            symbol_index += 1
            code += 1
        code <<= 1
    return codes


_DC_CODES = _canonical_codes(_DC_CODE_COUNTS, _DC_SYMBOLS)
_AC_CODES = _canonical_codes(_AC_CODE_COUNTS, _AC_SYMBOLS)


class _BitWriter:
    """Entropy-coded segment writer that stuffs a 0x00 after every 0xFF byte."""

    def __init__(self) -> None:
        self._output = bytearray()
        self._accumulator = 0
        self._bit_count = 0

    def write(self, value: int, length: int) -> None:
        self._accumulator = (self._accumulator << length) | (value & ((1 << length) - 1))
        self._bit_count += length
        while self._bit_count >= 8:
            self._bit_count -= 8
            byte = (self._accumulator >> self._bit_count) & 0xFF
            self._output.append(byte)
            if byte == 0xFF:
                self._output.append(0x00)
        self._accumulator &= (1 << self._bit_count) - 1

    def finish(self) -> bytes:
        # The standard pads the last byte with 1-bits.
        if self._bit_count:
            self.write((1 << (8 - self._bit_count)) - 1, 8 - self._bit_count)
        return bytes(self._output)


def _segment(marker: int, payload: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(payload) + 2) + payload


def _rgb_to_ycbcr(red: int, green: int, blue: int) -> tuple[int, int, int]:
    luma = 0.299 * red + 0.587 * green + 0.114 * blue
    blue_difference = 128 - 0.168736 * red - 0.331264 * green + 0.5 * blue
    red_difference = 128 + 0.5 * red - 0.418688 * green - 0.081312 * blue
    return tuple(max(0, min(255, round(channel))) for channel in (luma, blue_difference, red_difference))  # type: ignore[return-value]


def _block_colours(seed: bytes, blocks_wide: int, blocks_high: int) -> list[tuple[int, int, int]]:
    """Return one RGB colour per block: a vertical gradient between two seeded colours
    with a bright square whose position also depends on the seed."""
    top = (seed[0], seed[1], seed[2])
    bottom = (seed[3] // 2, seed[4] // 2, seed[5] // 2)
    marker_column = seed[6] % blocks_wide
    marker_row = seed[7] % blocks_high
    colours: list[tuple[int, int, int]] = []
    for row in range(blocks_high):
        weight = row / max(1, blocks_high - 1)
        row_colour = tuple(round(a + (b - a) * weight) for a, b in zip(top, bottom, strict=True))
        for column in range(blocks_wide):
            if (column, row) == (marker_column, marker_row):
                colours.append((255, 255, 255))
            else:
                colours.append(row_colour)  # type: ignore[arg-type]
    return colours


def _encode_scan(colours: list[tuple[int, int, int]]) -> bytes:
    writer = _BitWriter()
    previous_dc = [0, 0, 0]
    end_of_block_code, end_of_block_length = _AC_CODES[_END_OF_BLOCK]
    for colour in colours:
        for component, sample in enumerate(_rgb_to_ycbcr(*colour)):
            dc = sample - 128
            difference = dc - previous_dc[component]
            previous_dc[component] = dc
            category = abs(difference).bit_length()
            code, length = _DC_CODES[category]
            writer.write(code, length)
            if category:
                # Negative differences are sent as the one's complement of their magnitude.
                writer.write(difference if difference > 0 else difference + (1 << category) - 1, category)
            writer.write(end_of_block_code, end_of_block_length)
    return writer.finish()


def _huffman_table_segment(
    table_class: int, table_id: int, code_counts: tuple[int, ...], symbols: tuple[int, ...]
) -> bytes:
    return _segment(0xC4, bytes([(table_class << 4) | table_id, *code_counts, *symbols]))


def encode_jpeg(seed_text: str, comment: str, padding_bytes: int = 0) -> bytes:
    """Encode a 64x48 baseline JPEG whose colours derive from ``seed_text``.

    ``comment`` goes into a COM segment so that images with equal colours still differ
    in their bytes. ``padding_bytes`` adds at least that many bytes of extra COM
    segments, which keeps the file a valid JPEG of any size.
    """
    seed = hashlib.sha256(seed_text.encode()).digest()
    blocks_wide = IMAGE_WIDTH // 8
    blocks_high = IMAGE_HEIGHT // 8
    jfif = _segment(0xE0, b"JFIF\x00" + bytes([1, 1, 0]) + struct.pack(">HH", 1, 1) + bytes([0, 0]))
    comment_segment = _segment(0xFE, comment.encode()[:_MAX_SEGMENT_PAYLOAD])
    padding = bytearray()
    while len(padding) < padding_bytes:
        padding += _segment(0xFE, b"\x00" * _MAX_SEGMENT_PAYLOAD)
    quantisation = _segment(0xDB, bytes([0]) + bytes([_QUANTISER] * 64))
    frame = _segment(
        0xC0,
        struct.pack(">BHHB", 8, IMAGE_HEIGHT, IMAGE_WIDTH, 3) + bytes([1, 0x11, 0, 2, 0x11, 0, 3, 0x11, 0]),
    )
    dc_table = _huffman_table_segment(0, 0, _DC_CODE_COUNTS, _DC_SYMBOLS)
    ac_table = _huffman_table_segment(1, 0, _AC_CODE_COUNTS, _AC_SYMBOLS)
    scan_header = _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]))
    scan = _encode_scan(_block_colours(seed, blocks_wide, blocks_high))
    return b"".join(
        [
            b"\xff\xd8",
            jfif,
            comment_segment,
            bytes(padding),
            quantisation,
            frame,
            dc_table,
            ac_table,
            scan_header,
            scan,
            b"\xff\xd9",
        ]
    )


@lru_cache(maxsize=4096)
def camera_jpeg(device_id: int, thumbnail_ts: int) -> bytes:
    """Return the still image of a device at one thumbnail timestamp (cached)."""
    return encode_jpeg(f"{device_id}:{thumbnail_ts}", f"blink2mqtt simulator device={device_id} ts={thumbnail_ts}")


@lru_cache(maxsize=64)
def oversize_camera_jpeg(device_id: int, thumbnail_ts: int) -> bytes:
    """Return a valid JPEG of the device that is larger than 2 MiB."""
    return encode_jpeg(
        f"{device_id}:{thumbnail_ts}",
        f"blink2mqtt simulator oversize device={device_id} ts={thumbnail_ts}",
        padding_bytes=OVERSIZE_MIN_BYTES,
    )


def _box(box_type: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", len(payload) + 8) + box_type + payload


@lru_cache(maxsize=1024)
def clip_mp4(media_id: int, duration_seconds: int = 30) -> bytes:
    """Return a small MP4 file (ftyp, moov with mvhd, mdat) for one media entry.

    It is well-formed at the box level but carries no decodable video track.
    """
    file_type = _box(b"ftyp", b"isom" + struct.pack(">I", 512) + b"isomiso2avc1mp41")
    identity_matrix = struct.pack(">9I", 0x00010000, 0, 0, 0, 0x00010000, 0, 0, 0, 0x40000000)
    movie_header = _box(
        b"mvhd",
        struct.pack(">IIIII", 0, 0, 0, 1000, duration_seconds * 1000)
        + struct.pack(">IH", 0x00010000, 0x0100)
        + bytes(10)
        + identity_matrix
        + bytes(24)
        + struct.pack(">I", 2),
    )
    movie = _box(b"moov", movie_header)
    media_data = _box(b"mdat", (f"blink2mqtt simulator clip media_id={media_id}\n".encode() * 64))
    return file_type + movie + media_data
