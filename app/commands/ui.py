"""``station run`` and ``station demo``: the station app, as a desktop window or in a browser."""

from __future__ import annotations

import argparse
import importlib.util
import os

from app.cli import CommandError, add_station_options, station_settings

DEFAULT_WEB_PORT = 8550


def register(subparsers: argparse._SubParsersAction) -> None:
    run = subparsers.add_parser("run", help="open the station app (a desktop window, or --web for a browser)")
    _app_options(run)
    add_station_options(run)
    run.set_defaults(handler=_run)

    demo = subparsers.add_parser(
        "demo",
        help="start the embedded ERP with demo data, pull it, and open the station app: the whole flow "
        "in one command (STATION_DATA_DIR says where both keep their data)",
    )
    _app_options(demo)
    demo.add_argument(
        "--erp-port",
        type=int,
        default=0,
        help="TCP port for the embedded ERP on 127.0.0.1 (default: a free one)",
    )
    demo.add_argument(
        "--data-dir", help="where the station and its ERP keep their data (env STATION_DATA_DIR)"
    )
    demo.set_defaults(handler=_demo)


def _app_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--web", action="store_true", help="serve the app to a browser instead of opening a desktop window"
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_WEB_PORT,
        help=f"TCP port of the web app with --web (default {DEFAULT_WEB_PORT}; 0 = a free one)",
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address the web app listens on (default 127.0.0.1: this machine only; "
        "0.0.0.0 lets handhelds on the network connect, over HTTPS)",
    )
    parser.add_argument(
        "--tls",
        action="store_true",
        help="serve HTTPS and WSS on loopback too (always on for any other --host)",
    )
    parser.add_argument(
        "--tls-cert",
        help="the PEM certificate to serve HTTPS with (default: the station's "
        "own, made on first start in the data directory's tls/ folder)",
    )
    parser.add_argument("--tls-key", help="the PEM private key of --tls-cert")
    parser.add_argument(
        "--insecure-http",
        action="store_true",
        help="serve plain HTTP on a network address: browsers then refuse the camera to the handhelds",
    )


def _has_desktop_client() -> bool:
    return importlib.util.find_spec("flet_desktop") is not None


def _check_port(port: int, flag: str) -> None:
    if not 0 <= port <= 65535:
        raise CommandError(f"{flag} must be between 0 and 65535 (got {port})")


def _open(settings):
    from app.runtime import open_station
    from sync.store import StoreError

    try:
        return open_station(settings)
    except StoreError as exc:
        raise CommandError(str(exc)) from None
    except OSError as exc:
        detail = exc.strerror or exc
        raise CommandError(f"cannot use the data directory {settings.data_dir}: {detail}") from None


def _check_tls_options(args: argparse.Namespace) -> None:
    """Refuse contradictory TLS flags before anything starts."""
    if bool(args.tls_cert) != bool(args.tls_key):
        raise CommandError(
            "--tls-cert and --tls-key go together: give both, or neither for the station's own certificate"
        )
    if args.insecure_http and (args.tls or args.tls_cert):
        raise CommandError("--insecure-http serves plain HTTP: leave out --tls/--tls-cert, or leave it out")


def _tls_for(args: argparse.Namespace, settings, addresses: list[str]):
    """The certificate to serve with (app.tls.TlsFiles), or None for plain HTTP: on loopback
    without --tls, or on a network address with --insecure-http."""
    from app.tls import TlsError, given_certificate, is_loopback, station_certificate

    if args.insecure_http or not (args.tls or args.tls_cert or not is_loopback(args.host)):
        return None
    try:
        if args.tls_cert:
            return given_certificate(args.tls_cert, args.tls_key)
        return station_certificate(
            settings.data_dir, hosts=[args.host, *addresses], station_id=settings.station_id
        )
    except TlsError as exc:
        raise CommandError(str(exc)) from None


def _serve(station, args: argparse.Namespace) -> None:
    """Serve the app (web, or a desktop window when flet-desktop is installed) until closed."""
    from app.ui.app import station_main

    main = station_main(station)
    if args.web:
        from app.tls import is_loopback, lan_addresses
        from app.ui.web import CA_PATH, free_port, serve_forever, web_app

        port = args.port or free_port(args.host)
        everywhere = args.host in ("0.0.0.0", "", "::")
        addresses = lan_addresses() if everywhere else []
        tls = _tls_for(args, station.settings, addresses)
        scheme = "https" if tls else "http"
        shown = ([args.host] if not everywhere else addresses) or ["127.0.0.1"]
        for host in shown:
            print(f"Returns Station is at {scheme}://{host}:{port}/ (Ctrl-C to stop)", flush=True)
        if tls is not None:
            print(f"Certificate SHA-256 fingerprint: {tls.fingerprint}", flush=True)
            if tls.ca_cert is not None:
                print(
                    f"Handhelds trust the station once through its CA: {scheme}://{shown[0]}:{port}"
                    f"{CA_PATH} (see the README, 'Trust the station on handhelds')",
                    flush=True,
                )
        elif not is_loopback(args.host):
            print(
                "Plain HTTP on the network (--insecure-http): handhelds cannot use their camera here",
                flush=True,
            )
        try:
            serve_forever(
                web_app(main, ca_cert=tls.ca_cert if tls else None), host=args.host, port=port, tls=tls
            )
        except OSError as exc:
            raise CommandError(
                f"cannot listen on {args.host}:{port} ({exc.strerror or exc}): choose another --port"
            ) from None
        return
    import flet as ft

    from app.ui.web import ASSETS_DIR

    ft.run(main, view=ft.AppView.FLET_APP, assets_dir=str(ASSETS_DIR))


def _run(args: argparse.Namespace) -> int:
    _check_port(args.port, "--port")
    _check_tls_options(args)
    if not args.web and not _has_desktop_client():
        raise CommandError(
            "no desktop client is installed (pip install 'returns-station[desktop]'): "
            "use `station run --web` to open the station in a browser"
        )
    settings = station_settings(args)
    station = _open(settings)
    try:
        if station.engine is not None:
            station.engine.start()
        _serve(station, args)
    finally:
        station.close()
    return 0


def _demo(args: argparse.Namespace) -> int:
    from sync.erp.tryton.server import ErpProcess, ErpSetupError

    _check_port(args.port, "--port")
    _check_port(args.erp_port, "--erp-port")
    _check_tls_options(args)
    if not args.web and not _has_desktop_client():
        print("No desktop client is installed: serving the station to your browser instead.", flush=True)
        args.web = True
    settings = station_settings(args)
    password = os.environ.get("STATION_ERP_PASSWORD", "admin")
    print(f"Data directory: {settings.data_dir}", flush=True)
    print(
        "Starting the embedded ERP (the first start creates its demo database: a few minutes) …", flush=True
    )
    starting = True

    def progress(line: str) -> None:
        # the set-up steps are worth reading; the server's request log afterwards is not
        if starting or "error" in line.lower() or "traceback" in line.lower():
            print(f"  erp: {line}", flush=True)

    try:
        erp = ErpProcess.start(
            settings.erp_data_dir, port=args.erp_port, password=password, progress=progress, history=True
        )
    except ErpSetupError as exc:
        raise CommandError(f"the embedded ERP did not start: {exc}") from None
    starting = False
    try:
        try:
            # the demo's station user speaks for this station's id (the host's name unless set)
            station_user = erp.station_address("demo-station", station=settings.station_id)
        except (ErpSetupError, OSError) as exc:
            raise CommandError(f"the embedded ERP gave no station user: {exc}") from None
        print(f"ERP ready at {station_user.redacted()}", flush=True)
        station = _open(settings.with_erp(station_user))
        try:
            report = station.engine.sync_once()
            status = station.engine.status()
            if not status.online:
                raise CommandError(f"the first pull from the ERP failed: {status.last_error or report}")
            print(
                f"Pulled the demo data: {len(station.store.people())} people, "
                f"{len(station.store.returns())} returns, {len(station.store.shipments())} orders.",
                flush=True,
            )
            print(
                "Sign in with badge U-RECV-1 PIN 1111 (receiver), U-INSP-1 2222 (inspector), "
                "U-PACK-1 3333 (packer) or U-SUPV-1 444444 (supervisor).",
                flush=True,
            )
            station.engine.start()
            _serve(station, args)
        finally:
            station.close()
    finally:
        erp.stop()
    return 0
