"""Image bytes for the media tests: real images made with Pillow, and hostile files made by hand."""

import io
import struct
import zlib

from PIL import Image


def image_bytes(fmt: str, size=(40, 30), color=(200, 30, 60), **save) -> bytes:
    mode = "RGB" if fmt != "GIF" else "P"
    image = Image.new("RGB", size, color)
    if mode == "P":
        image = image.convert("P")
    out = io.BytesIO()
    image.save(out, fmt, **save)
    return out.getvalue()


def jpeg_with_exif() -> bytes:
    """A JPEG whose EXIF says: rotate 90° (orientation 6), made by 'SpyCam', with a comment."""
    image = Image.new("RGB", (40, 20), (10, 120, 200))
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation
    exif[0x010F] = "SpyCam"  # make
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif.tobytes(), comment=b"secret comment")
    return out.getvalue()


def animated_gif(frames=3) -> bytes:
    images = [Image.new("RGB", (16, 16), (i * 60, 255 - i * 60, 90)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=120, loop=0)
    return out.getvalue()


def _chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))  # fmt: skip


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that declares a huge image: what a decompression bomb looks like before its
    pixels are decoded (a few hundred bytes that would take gigabytes)."""
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    idat = zlib.compress(b"\0" * 1024, 9)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
    )


def polyglot() -> bytes:
    """A GIF whose bytes also read as an HTML page with a script (a GIFAR-style polyglot)."""
    return image_bytes("GIF") + b"<html><body><script>alert(document.cookie)</script></body></html>"


SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
       b'<script>alert(1)</script><rect width="10" height="10"/></svg>')  # fmt: skip
