"""A small ICC v2 RGB profile (Adobe RGB 1998 primaries, gamma 2.2) built in the test.

No ICC files ship with Pillow or this machine, and sRGB-in-sRGB would prove nothing, so
the colour-management test builds a wide-gamut matrix/TRC profile byte by byte.
"""

import struct

D50 = (0.9642, 1.0, 0.8249)
ADOBE_RGB_D50 = {
    b"rXYZ": (0.6097, 0.3111, 0.0195),
    b"gXYZ": (0.2053, 0.6257, 0.0609),
    b"bXYZ": (0.1492, 0.0632, 0.7446),
}


def _s15(value: float) -> bytes:
    return struct.pack(">i", round(value * 65536))


def _xyz(values) -> bytes:
    return b"XYZ \0\0\0\0" + b"".join(_s15(v) for v in values)


def _curve(gamma: float) -> bytes:
    return b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"


def _description(text: str) -> bytes:
    ascii_text = text.encode("ascii") + b"\0"
    body = b"desc\0\0\0\0" + struct.pack(">I", len(ascii_text)) + ascii_text
    body += struct.pack(">II", 0, 0) + struct.pack(">HB", 0, 0) + b"\0" * 67
    return body + b"\0" * (-len(body) % 4)


def wide_gamut_profile() -> bytes:
    tags = [(b"desc", _description("Test wide-gamut RGB")), (b"wtpt", _xyz(D50))]
    tags += [(name, _xyz(values)) for name, values in ADOBE_RGB_D50.items()]
    tags += [(name, _curve(2.2)) for name in (b"rTRC", b"gTRC", b"bTRC")]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for name, payload in tags:
        table += name + struct.pack(">II", offset + len(data), len(payload))
        data += payload
    size = offset + len(data)
    header = struct.pack(">I4sI4s4s4s", size, b"lcms", 0x02100000, b"mntr", b"RGB ", b"XYZ ")
    header += b"\0" * 12 + b"acsp" + b"APPL" + b"\0" * 4 + b"\0" * 8 + b"\0" * 8
    header += struct.pack(">I", 0) + b"".join(_s15(v) for v in D50) + b"\0" * 4
    header += b"\0" * (128 - len(header))
    return header + struct.pack(">I", len(tags)) + table + data
