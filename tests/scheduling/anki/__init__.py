"""The Anki oracle: a worker driving the real Anki backend, and a port of Anki's fuzz draw."""
