"""``station scan``: JSON lines on stdout, one clear line on stderr for what cannot be read."""

import io
import json
import random

import cv2
import numpy as np

from app.cli import main
from app.scan.synth import Code, render_label


def label_png(path, code):
    cv2.imwrite(str(path), render_label(code, random.Random(2), module_px=3))
    return str(path)


def test_photos_print_one_json_object_per_code(tmp_path, capsys):
    ean = label_png(tmp_path / "ean.png", Code("EAN13", "4006381333931", "4006381333931"))
    gs1 = label_png(
        tmp_path / "gs1.png",
        Code("DataMatrix", "(01)05901234123457(17)270100(10)L42", "01059012341234571727010010L42", gs1=True),
    )
    assert main(["scan", ean, gs1]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["file"], d["gtin"]) for d in lines] == [(ean, "04006381333931"), (gs1, "05901234123457")]
    assert lines[1]["lot"] == "L42" and lines[1]["expiry"] == "2027-01-31"
    assert len(lines[0]["position"]) == 4


def test_unreadable_or_codeless_photo_is_one_line_each_and_exit_status_1(tmp_path, capsys):
    text = tmp_path / "notes.txt"
    text.write_text("not a picture")
    blank = tmp_path / "blank.png"
    cv2.imwrite(str(blank), np.full((100, 100), 200, np.uint8))
    assert main(["scan", str(tmp_path / "missing.png"), str(text), str(blank)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.splitlines() == [
        f"station: cannot read {tmp_path / 'missing.png'}: no such file",
        f"station: cannot read {text}: not an image OpenCV can read",
        f"station: no code found in {blank}",
    ]


def test_video_prints_each_code_once_with_its_frame(tmp_path, capsys):
    video = tmp_path / "v.avi"
    frame = np.full((480, 640, 3), 100, np.uint8)
    label = render_label(Code("QRCode", "RMA-7", "RMA-7"), random.Random(1), module_px=3)
    writer = cv2.VideoWriter(str(video), cv2.VideoWriter_fourcc(*"MJPG"), 10, (640, 480))
    for i in range(6):
        f = frame.copy()
        if i >= 2:
            f[10 : 10 + label.shape[0], 50 : 50 + label.shape[1]] = label[..., None]
        writer.write(f)
    writer.release()
    assert main(["scan", "--video", str(video)]) == 0
    (line,) = capsys.readouterr().out.splitlines()
    assert json.loads(line)["text"] == "RMA-7" and json.loads(line)["frame"] == 2


def test_missing_camera_is_one_clear_line(capsys):
    assert main(["scan", "--camera", "97"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("station: camera 97 cannot be opened")


def test_typed_lines_from_a_wedge_scanner(monkeypatch, capsys):
    monkeypatch.setattr("sys.stdin", io.StringIO("]C1010590123412345710ABC|17250500\r\n\n]E04006381333931\n"))
    assert main(["scan", "--typed", "--gs-replacement", "|"]) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(d["gtin"], d["lot"], d["source"]) for d in lines] == [
        ("05901234123457", "ABC", "wedge"),
        ("04006381333931", None, "wedge"),
    ]
