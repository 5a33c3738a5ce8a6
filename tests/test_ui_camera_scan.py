"""The camera widget's words and decisions that need no browser: when a page needs HTTPS for the
camera, what a camera failure is called, and which session is the desk's own."""

from types import SimpleNamespace

from app.ui.camera_scan import BLOCKED, NO_CAMERA, camera_words, is_desk, needs_https


def test_a_plain_http_page_on_a_network_address_needs_https_and_names_the_address():
    assert needs_https("ws://192.168.1.20:8550") == (
        "This page needs HTTPS for the camera: open https://192.168.1.20:8550/"
    )
    assert needs_https("ws://dock.example:8550") is not None


def test_secure_pages_and_loopback_do_not_need_https():
    assert needs_https("wss://192.168.1.20:8550") is None
    assert needs_https("ws://127.0.0.1:8550") is None
    assert needs_https("ws://localhost:8550") is None
    assert needs_https(None) is None  # a desktop window or a native app


def test_camera_failures_are_said_in_a_workers_words():
    assert (
        camera_words(
            RuntimeError(
                "CameraException(CameraAccessDenied, The camera cannot be used "
                "or the permission to access the camera is not granted.)"
            )
        )
        == BLOCKED
    )
    assert (
        camera_words(
            RuntimeError("CameraException(cameraNotFound, No camera found for the given camera options.)")
        )
        == NO_CAMERA
    )
    assert "could not start" in camera_words(RuntimeError("Null check operator used on a null value"))


def test_only_the_hosts_own_session_is_the_desk():
    assert is_desk(SimpleNamespace(web=False, client_ip=None))  # the desktop window
    assert is_desk(SimpleNamespace(web=True, client_ip="127.0.0.1"))  # a browser on the host
    assert not is_desk(SimpleNamespace(web=True, client_ip="192.168.1.31"))  # a handheld
