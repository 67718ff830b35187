from cards.importers.errors import ImportFileError


def decode_text(data: bytes) -> str:
    """Bytes of an uploaded or read file → text with \\n line ends, or a clear ImportFileError."""
    if not data.strip():
        raise ImportFileError("the file is empty", line=1)
    if b"\x00" in data:
        line = data[: data.index(b"\x00")].count(b"\n") + 1
        raise ImportFileError("this looks like a binary file, not text (NUL byte)", line=line)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise ImportFileError(
            f"the file is not UTF-8 text (byte 0x{data[exc.start]:02x})", line=line
        ) from None
    return text.replace("\r\n", "\n").replace("\r", "\n")
