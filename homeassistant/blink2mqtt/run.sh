#!/usr/bin/with-contenv bashio
# shellcheck shell=bash
# Start blink2mqtt: write /data/config.yaml from the add-on options and the
# Supervisor's MQTT service, then replace this shell with the bridge.
set -e

OPTIONS_FILE=/data/options.json
CONFIG_FILE=/data/config.yaml

# options_to_config.py reads the broker from these variables unless the
# mqtt_host option names another broker. Values already in the environment
# are the fallback when the Supervisor offers no MQTT service.
if bashio::config.has_value 'mqtt_host'; then
    bashio::log.info "MQTT broker from the add-on options: $(bashio::config 'mqtt_host')"
elif bashio::services.available "mqtt"; then
    ADDON_MQTT_HOST="$(bashio::services mqtt 'host')"
    ADDON_MQTT_PORT="$(bashio::services mqtt 'port')"
    ADDON_MQTT_USERNAME="$(bashio::services mqtt 'username')"
    ADDON_MQTT_PASSWORD="$(bashio::services mqtt 'password')"
    ADDON_MQTT_SSL="$(bashio::services mqtt 'ssl')"
    export ADDON_MQTT_HOST ADDON_MQTT_PORT ADDON_MQTT_USERNAME ADDON_MQTT_PASSWORD ADDON_MQTT_SSL
    bashio::log.info "MQTT service of the Supervisor: ${ADDON_MQTT_HOST}:${ADDON_MQTT_PORT}"
elif [ -n "${ADDON_MQTT_HOST:-}" ]; then
    bashio::log.info "MQTT broker from the environment: ${ADDON_MQTT_HOST}:${ADDON_MQTT_PORT:-1883}"
else
    bashio::log.warning "No MQTT service is available; trying the Mosquitto add-on at core-mosquitto:1883"
fi

if ! bashio::config.has_value 'email' || ! bashio::config.has_value 'password'; then
    bashio::log.warning "Blink email or password is empty: the bridge starts without a Blink login."
    bashio::log.warning "Set both in the add-on configuration and restart the add-on."
fi

python3 /usr/src/blink2mqtt/options_to_config.py "${OPTIONS_FILE}" "${CONFIG_FILE}"
unset ADDON_MQTT_PASSWORD

exec blink2mqtt run -c "${CONFIG_FILE}"
