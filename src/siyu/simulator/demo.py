"""The demo brand's corp in the twin: four persona accounts and six touchpoints of different
rates and quality, so the console shows life within a minute of `siyu demo`."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import signal
import threading

from siyu.simulator import admin
from siyu.simulator.app import make_twin_server
from siyu.simulator.config import TwinConfig
from siyu.simulator.population import Driver, PopulationConfig, Touchpoint

logger = logging.getLogger("siyu.simulator")

DEMO_STAFF = {"xiaowanzi01": "小完子01", "xiaowanzi02": "小完子02", "xiaowanzi03": "小完子03", "xiaowanzi04": "小完子04"}
_ALL = tuple(DEMO_STAFF)
# Each touchpoint scans the demo brand's channel code of that name once the platform has created it.
DEMO_TOUCHPOINTS = (
    Touchpoint("store", _ALL[:2], arrivals_per_day=120, churn_probability=0.06, code_remark="门店扫码"),
    Touchpoint("feed_ads", _ALL[2:], arrivals_per_day=200, churn_probability=0.35, code_remark="信息流广告"),
    Touchpoint("parcel_card", _ALL, arrivals_per_day=90, churn_probability=0.04, code_remark="包裹卡"),
    Touchpoint("mini_program", _ALL[1:3], arrivals_per_day=60, churn_probability=0.10, code_remark="小程序商城"),
    Touchpoint("offline_event", _ALL[:1], arrivals_per_day=35, churn_probability=0.08, code_remark="线下快闪活动"),
    Touchpoint("promoter", _ALL[3:], arrivals_per_day=25, churn_probability=0.15, code_remark="推手·小美"),
)
# A simulated day every four real minutes: about two adds a second. Each add fans out into some
# ten subscriber runs (welcome, tags, segments, lifecycle...), which one worker on SQLite beside
# the web server and the twin keeps up with; a day a minute left a growing queue.
DEMO_SPEED = 360.0


def demo_population(seed: int, start: dt.datetime | None = None) -> PopulationConfig:
    start = start or dt.datetime.now(dt.UTC).replace(microsecond=0)
    return PopulationConfig(seed=seed, touchpoints=DEMO_TOUCHPOINTS, start=start)


def main(argv: list[str]) -> int:
    """`siyu twin`: serve the WeCom twin; with `--population demo`, the demo corp's customers arrive."""
    parser = argparse.ArgumentParser(prog="siyu twin", description="Run the WeCom twin (a local stand-in for WeCom).")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--callback-url", default=os.environ.get("SIYU_TWIN_CALLBACK_URL"),
                        help="the platform's /wecom/callback/<brand>/ URL")
    parser.add_argument("--corp-id", default=os.environ.get("SIYU_TWIN_CORP_ID", TwinConfig.corp_id))
    parser.add_argument("--agent-id", default=os.environ.get("SIYU_TWIN_AGENT_ID", TwinConfig.agent_id))
    parser.add_argument("--seed", type=int, default=int(os.environ.get("SIYU_TWIN_SEED", "0")))
    parser.add_argument("--population", choices=["none", "demo"], default="none")
    parser.add_argument("--speed", type=float, default=DEMO_SPEED, help="simulated seconds per real second")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)

    # Secrets come from the environment so they do not show in the process list.
    config = TwinConfig(
        corp_id=args.corp_id,
        agent_id=args.agent_id,
        corp_secret=os.environ.get("SIYU_TWIN_SECRET", TwinConfig.corp_secret),
        callback_token=os.environ.get("SIYU_TWIN_TOKEN", TwinConfig.callback_token),
        encoding_aes_key=os.environ.get("SIYU_TWIN_AES_KEY", TwinConfig.encoding_aes_key),
        mp_app_id=os.environ.get("SIYU_TWIN_MP_APP_ID", TwinConfig.mp_app_id),
        mp_app_secret=os.environ.get("SIYU_TWIN_MP_SECRET", TwinConfig.mp_app_secret),
        callback_url=args.callback_url,
        seed=args.seed,
    )
    server, app = make_twin_server(args.host, args.port, config)
    driver = None
    if args.population == "demo":
        for userid, name in DEMO_STAFF.items():
            admin.put_staff(app.twin, {"userid": userid, "name": name})
        driver = Driver(f"http://{args.host}:{server.server_port}", demo_population(args.seed), args.speed)
    serving = threading.Thread(target=server.serve_forever, name="twin-http", daemon=True)
    serving.start()
    logger.info("WeCom twin for corp %s on http://%s:%s/ (callbacks to %s)", config.corp_id, args.host,
                server.server_port, config.callback_url or "nowhere")
    if driver:
        logger.info("demo population: %s planned actions at %sx speed", len(driver.actions), args.speed)
        driver.start()
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    stop.wait()
    if driver:
        driver.stop()
    server.shutdown()
    server.server_close()
    app.close()
    return 0
