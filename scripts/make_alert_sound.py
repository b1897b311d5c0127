"""Writes bot/static/alert.wav: the console's alert, two short soft tones (8 kHz mono,
16-bit, ~0.3 s, a few kB). Made here with the standard library, nothing downloaded.
Run: python scripts/make_alert_sound.py"""

import math
from pathlib import Path
import struct
import wave

RATE = 8000
OUT = Path(__file__).resolve().parent.parent / "bot" / "static" / "alert.wav"


def tone(frequency: float, seconds: float, volume: float = 0.35):
    count = int(RATE * seconds)
    for i in range(count):
        fade = min(1.0, i / (RATE * 0.01), (count - i) / (RATE * 0.03))  # no clicks
        yield volume * fade * math.sin(2 * math.pi * frequency * i / RATE)


def main() -> None:
    samples = [*tone(880, 0.12), *([0.0] * int(RATE * 0.04)), *tone(1320, 0.14)]
    with wave.open(str(OUT), "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(RATE)
        out.writeframes(b"".join(struct.pack("<h", int(s * 32767)) for s in samples))


if __name__ == "__main__":
    main()
