"""REST handlers for media events, clip and thumbnail downloads, and camera still images."""

from __future__ import annotations

from blink2mqtt.simulator.http_types import SimResponse, bytes_response, json_response
from blink2mqtt.simulator.media import camera_jpeg, clip_mp4, oversize_camera_jpeg
from blink2mqtt.simulator.model import Device, DeviceFamily, MediaEntry
from blink2mqtt.simulator.rest_common import (
    RestCall,
    RestHandler,
    bad_request,
    camera_not_found,
    find_network,
    not_found,
)
from blink2mqtt.simulator.routing import Router
from blink2mqtt.simulator.timestamps import parse_since
from blink2mqtt.simulator.views import media_entry_json, product_type

# Served for the "not_image" thumbnail payload: an HTML error page labelled as a JPEG.
NOT_AN_IMAGE = b"<html><body><h1>503 Service Temporarily Unavailable</h1></body></html>"


def media_changed(call: RestCall) -> SimResponse:
    """GET media/changed: entries updated at or after ``since``, newest first, one page at a time."""
    since_text = call.request.query_value("since")
    page_text = call.request.query_value("page") or "1"
    try:
        since = parse_since(since_text) if since_text else None
    except ValueError as error:
        return bad_request(str(error))
    if not page_text.isdigit() or int(page_text) < 1:
        return bad_request(f"Invalid page {page_text!r}: pages start at 1")
    page = int(page_text)
    page_size = call.context.settings.media_page_size
    entries = [entry for entry in call.state.media.values() if since is None or entry.updated_at >= since]
    entries.sort(key=lambda entry: (entry.updated_at, entry.id), reverse=True)
    selected = entries[(page - 1) * page_size : page * page_size]
    return json_response(
        200,
        {
            "limit": page_size,
            "purge_id": 1_600_000_000,
            "refresh_count": 0,
            "media": [media_entry_json(call.state, entry) for entry in selected],
        },
    )


def _media_entry(call: RestCall, file_name: str) -> MediaEntry | SimResponse:
    entry = call.state.media_by_file_name.get(file_name)
    if entry is None or entry.deleted:
        return not_found(f"Media {file_name} not found")
    return entry


def media_clip(call: RestCall) -> SimResponse:
    name = call.str_param("name")
    if not name.endswith(".mp4"):
        return not_found(f"Media {name} not found: clip paths end in .mp4")
    entry = _media_entry(call, name.removesuffix(".mp4"))
    if isinstance(entry, SimResponse):
        return entry
    return bytes_response(200, clip_mp4(entry.id), "video/mp4")


def media_thumbnail(call: RestCall) -> SimResponse:
    # Served with or without a .jpg suffix.
    entry = _media_entry(call, call.str_param("name").removesuffix(".jpg"))
    if isinstance(entry, SimResponse):
        return entry
    return bytes_response(200, camera_jpeg(entry.device_id, int(entry.created_at.timestamp())), "image/jpeg")


def delete_media(call: RestCall) -> SimResponse:
    invalid = json_response(400, {"message": "Invalid Media List Format", "code": 706})
    try:
        body = call.request.json_body()
    except ValueError:
        return invalid
    if not isinstance(body, dict) or not isinstance(body.get("media_list"), list):
        return invalid
    media_ids: list[int] = []
    for value in body["media_list"]:
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).isdigit():
            return invalid
        media_ids.append(int(value))
    deleted = call.state.delete_media(media_ids)
    return json_response(
        200, {"message": f"{deleted} media deleted successfully", "code": 200, "deleted_count": deleted}
    )


def _still_image(device: Device) -> SimResponse:
    """Return the device's current still, shaped by its thumbnail payload setting."""
    if device.thumbnail_payload == "empty":
        return bytes_response(200, b"", "image/jpeg")
    if device.thumbnail_payload == "not_image":
        return bytes_response(200, NOT_AN_IMAGE, "image/jpeg")
    if device.thumbnail_payload == "oversize":
        return bytes_response(200, oversize_camera_jpeg(device.id, device.thumbnail_ts), "image/jpeg")
    return bytes_response(200, camera_jpeg(device.id, device.thumbnail_ts), "image/jpeg")


def _thumbnail_device(call: RestCall, family: DeviceFamily | None) -> Device | SimResponse:
    network = find_network(call)
    if isinstance(network, SimResponse):
        return network
    device_id = call.int_param("camera_id")
    device = call.state.devices.get(device_id)
    if device is None:
        return not_found(f"Device {device_id} not found")
    if device.network_id != network.id or (family is not None and device.family != family):
        return camera_not_found()
    return device


def v3_thumbnail(call: RestCall) -> SimResponse:
    """GET /api/v3/media/accounts/{A}/networks/{N}/{type}/{C}/thumbnail/thumbnail.jpg?ts=...&ext="""
    device = _thumbnail_device(call, None)
    if isinstance(device, SimResponse):
        return device
    if call.str_param("product_type") != product_type(device):
        return json_response(400, {"code": 1630, "message": "Invalid Device Type"})
    return _still_image(device)


def _suffixed_still(call: RestCall, family: DeviceFamily) -> SimResponse:
    # Legacy and owl paths have no extension in homescreen, but Blink serves them only with .jpg appended.
    name = call.str_param("name")
    if not name.endswith(".jpg"):
        return not_found(f"Image {name} not found: append .jpg to this thumbnail path")
    device = _thumbnail_device(call, family)
    if isinstance(device, SimResponse):
        return device
    return _still_image(device)


def legacy_thumbnail(call: RestCall) -> SimResponse:
    return _suffixed_still(call, "camera")


def owl_thumbnail(call: RestCall) -> SimResponse:
    if call.str_param("tier") != call.state.identity.tier:
        return not_found(f"Image not found: tier {call.str_param('tier')} is not this account's tier")
    return _suffixed_still(call, "mini")


def register_media_routes(router: Router[RestHandler]) -> None:
    router.add("GET", "/api/v1/accounts/{account_id}/media/changed", media_changed)
    router.add("GET", "/api/v2/accounts/{account_id}/media/clip/{name:str}", media_clip)
    router.add("GET", "/api/v2/accounts/{account_id}/media/thumb/{name:str}", media_thumbnail)
    router.add("POST", "/api/v1/accounts/{account_id}/media/delete", delete_media)
    router.add(
        "GET",
        "/api/v3/media/accounts/{account_id}/networks/{network_id}/{product_type:str}/{camera_id}/thumbnail/thumbnail.jpg",
        v3_thumbnail,
    )
    router.add(
        "GET",
        "/media/production/account/{account_id}/network/{network_id}/camera/{camera_id}/{name:str}",
        legacy_thumbnail,
    )
    router.add(
        "GET",
        "/media/{tier:str}/account/{account_id}/network/{network_id}/owl/{camera_id}/thumbnail/{name:str}",
        owl_thumbnail,
    )
