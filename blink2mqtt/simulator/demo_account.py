"""The account the simulator starts with: credentials, identity and the demo devices.

Demo layout (demo=True):
- network 2101 "Home" with sync module 3101, classic cameras 4101 "Front Yard" (xt2),
  4102 "Driveway" (catalina, below freezing), 4103 "Back Garden" (xt, legacy
  thumbnail path, low battery, motion off) and Mini 5101 "Kitchen";
- network 2102 "Cabin" without a sync module, with Mini 5102 "Cabin Living Room" and
  doorbell 6101 "Cabin Front Door";
- both networks disarmed, and media entries from one to two days ago.
"""

from __future__ import annotations

import datetime as dt

from blink2mqtt.simulator.model import AccountIdentity, Device, MediaEntry, Network, Program, SyncModule
from blink2mqtt.simulator.state import AccountState
from blink2mqtt.simulator.timestamps import utc_now

DEMO_EMAIL = "demo@blink2mqtt.invalid"
DEMO_PASSWORD = "demo-password"
DEMO_PIN = "123456"
DEMO_ACCOUNT_ID = 74521
DEMO_TIER = "u011"
DEMO_USER_ID = 610044

HOME_NETWORK_ID = 2101
CABIN_NETWORK_ID = 2102


def demo_identity() -> AccountIdentity:
    return AccountIdentity(
        account_id=DEMO_ACCOUNT_ID,
        tier=DEMO_TIER,
        user_id=DEMO_USER_ID,
        email=DEMO_EMAIL,
        password=DEMO_PASSWORD,
        pin=DEMO_PIN,
    )


def _epoch(moment: dt.datetime) -> int:
    return int(moment.timestamp())


def populate_demo_account(state: AccountState) -> None:
    """Add the demo networks, devices, schedule and media history to an empty account."""
    now = utc_now()
    installed = now - dt.timedelta(days=400)
    thumbnail_ts = _epoch(now - dt.timedelta(hours=1))

    home = Network(id=HOME_NETWORK_ID, name="Home", armed=False, created_at=installed, updated_at=installed)
    home.sync_module = SyncModule(
        id=3101,
        network_id=HOME_NETWORK_ID,
        name="Home Sync Module",
        serial="G8T1S00000003101",
        online=True,
        type="sm2",
        created_at=installed,
        updated_at=installed,
    )
    cabin = Network(id=CABIN_NETWORK_ID, name="Cabin", armed=False, created_at=installed, updated_at=installed)
    state.insert_network(home)
    state.insert_network(cabin)

    devices = [
        Device(
            id=4101,
            family="camera",
            network_id=HOME_NETWORK_ID,
            name="Front Yard",
            type="xt2",
            serial="G8T1C00000004101",
            fw_version="2.151",
            motion_enabled=True,
            battery_ok=True,
            battery_level=3,
            temperature_f=72,
            wifi_bars=4,
            thumbnail_ts=thumbnail_ts,
        ),
        Device(
            id=4102,
            family="camera",
            network_id=HOME_NETWORK_ID,
            name="Driveway",
            type="catalina",
            serial="G8T1C00000004102",
            fw_version="10.61",
            motion_enabled=True,
            battery_ok=True,
            battery_level=3,
            temperature_f=31,
            wifi_bars=3,
            thumbnail_ts=thumbnail_ts + 7,
        ),
        Device(
            id=4103,
            family="camera",
            network_id=HOME_NETWORK_ID,
            name="Back Garden",
            type="xt",
            serial="G8T1C00000004103",
            fw_version="2.151",
            motion_enabled=False,
            battery_ok=False,
            battery_level=1,
            temperature_f=58,
            wifi_bars=2,
            thumbnail_ts=thumbnail_ts + 13,
            thumbnail_style="legacy",
        ),
        Device(
            id=5101,
            family="mini",
            network_id=HOME_NETWORK_ID,
            name="Kitchen",
            type="owl",
            serial="G8T1M00000005101",
            fw_version="9.77",
            motion_enabled=True,
            thumbnail_ts=thumbnail_ts + 21,
            thumbnail_style="owl",
        ),
        Device(
            id=5102,
            family="mini",
            network_id=CABIN_NETWORK_ID,
            name="Cabin Living Room",
            type="owl",
            serial="G8T1M00000005102",
            fw_version="9.77",
            motion_enabled=True,
            thumbnail_ts=thumbnail_ts + 30,
            thumbnail_style="owl",
        ),
        Device(
            id=6101,
            family="doorbell",
            network_id=CABIN_NETWORK_ID,
            name="Cabin Front Door",
            type="lotus",
            # Blink reports doorbell serials as null.
            serial=None,
            fw_version="12.81",
            motion_enabled=True,
            thumbnail_ts=thumbnail_ts + 42,
        ),
    ]
    for device in devices:
        device.created_at = installed
        device.updated_at = installed
        state.insert_device(device)

    state.programs[7001] = Program(
        id=7001,
        network_id=HOME_NETWORK_ID,
        name="Weeknights",
        enabled=False,
        schedule=[
            {
                "dow": ["mon", "tue", "wed", "thu", "fri"],
                "devices": [],
                "time": "2016-06-02 22:00:00 +0000",
                "action": "arm",
            }
        ],
    )

    history = [
        (4101, dt.timedelta(hours=47), False),
        (5102, dt.timedelta(hours=40), True),
        (4102, dt.timedelta(hours=30), False),
        (6101, dt.timedelta(hours=27), False),
        (4101, dt.timedelta(hours=26), False),
    ]
    for index, (device_id, age, deleted) in enumerate(history):
        device = state.devices[device_id]
        network = state.networks[device.network_id]
        created = now - age
        state.insert_media(
            MediaEntry(
                id=1_600_000_001 + index,
                device_id=device.id,
                device_family=device.family,
                device_name=device.name,
                network_id=network.id,
                network_name=network.name,
                created_at=created,
                updated_at=created + dt.timedelta(minutes=2),
                source="pir",
                deleted=deleted,
                watched=True,
                time_zone=network.time_zone,
            )
        )
