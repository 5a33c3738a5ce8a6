"""Makes the two scan-feedback sounds (good.wav: a rising two-note chirp; refused.wav: a low double
buzz) from nothing but arithmetic, so no sound file comes from elsewhere. Run from the repository
root: ``python assets/sounds/make_sounds.py``."""

import math
import struct
import wave


def tone(path: str, notes: list[tuple[int, int]], rate: int = 22050, volume: float = 0.5) -> None:
    frames = bytearray()
    for freq, ms in notes:
        n = int(rate * ms / 1000)
        for i in range(n):
            env = min(1.0, i / (rate * 0.005), (n - i) / (rate * 0.01))  # 5 ms attack, 10 ms release
            sample = 0.0 if freq == 0 else math.sin(2 * math.pi * freq * i / rate)
            if freq and freq < 300:  # the refusal: a square-ish buzz carries on a noisy floor
                sample = max(-0.6, min(0.6, sample * 3))
            frames += struct.pack("<h", int(32767 * volume * env * sample))
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(frames))


if __name__ == "__main__":
    tone("assets/sounds/good.wav", [(1320, 70), (1760, 90)])
    tone("assets/sounds/refused.wav", [(220, 160), (0, 60), (220, 220)])
