"""The shape rules of an FCM HTTP v1 `messages:send` body, as the real endpoint enforces them.

`check(body)` returns the message or raises Invalid with the message text and the offending field, which
fcm_server.py turns into a 400 INVALID_ARGUMENT answer. Unknown field names are refused (the real API parses the
body against its protobuf schema and refuses unknown names), so a misspelt field fails a test instead of being
silently dropped.
"""
import re

DURATION = re.compile(r"^\d{1,12}(\.\d{1,9})?s$")
MAX_TTL = 28 * 24 * 3600  # four weeks
RESERVED_DATA_KEYS = {"from", "notification", "message_type"}
MESSAGE_FIELDS = {"name", "data", "notification", "android", "webpush", "apns", "fcm_options", "token", "topic",
                  "condition"}
NOTIFICATION_FIELDS = {"title", "body", "image"}
ANDROID_FIELDS = {"collapse_key", "priority", "ttl", "restricted_package_name", "data", "notification",
                  "fcm_options", "direct_boot_ok", "bandwidth_constrained_ok", "restricted_satellite_ok"}
ANDROID_NOTIFICATION_FIELDS = {
    "title", "body", "icon", "color", "sound", "tag", "click_action", "body_loc_key", "body_loc_args",
    "title_loc_key", "title_loc_args", "channel_id", "ticker", "sticky", "event_time", "local_only",
    "notification_priority", "default_sound", "default_vibrate_timings", "default_light_settings",
    "vibrate_timings", "visibility", "notification_count", "light_settings", "image", "bypass_proxy_notification",
    "proxy"}
APNS_FIELDS = {"headers", "payload", "fcm_options", "live_activity_token"}
WEBPUSH_FIELDS = {"headers", "data", "notification", "fcm_options"}
FCM_OPTIONS_FIELDS = {"analytics_label"}
WEBPUSH_FCM_OPTIONS_FIELDS = {"link", "analytics_label"}
APNS_FCM_OPTIONS_FIELDS = {"analytics_label", "image"}
PRIORITIES = {"NORMAL", "HIGH"}


class Invalid(Exception):
    def __init__(self, message, field):
        super().__init__(message)
        self.message, self.field = message, field


def camel_to_snake(name):
    # The API takes both spellings of a field name (proto JSON mapping): collapseKey == collapse_key.
    return re.sub(r"([A-Z])", lambda m: "_" + m.group(1).lower(), name)


def fields(value, allowed, where):
    if not isinstance(value, dict):
        raise Invalid(f"Invalid value at '{where}', expected an object", where)
    out = {}
    for name, item in value.items():
        snake = camel_to_snake(name)
        if snake not in allowed:
            raise Invalid(f"Invalid JSON payload received. Unknown name \"{name}\" at '{where}': Cannot find field.",
                          where)
        out[snake] = item
    return out


def string_map(value, where):
    if not isinstance(value, dict):
        raise Invalid(f"Invalid value at '{where}', expected a map of strings", where)
    for index, (key, item) in enumerate(value.items()):
        if not isinstance(item, str):
            raise Invalid(f"Invalid value at '{where}[{index}].value' (TYPE_STRING), {item!r}",
                          f"{where}[{index}].value")
    return value


def string_fields(value, names, where):
    for name in names:
        if name in value and not isinstance(value[name], str):
            raise Invalid(f"Invalid value at '{where}.{name}' (TYPE_STRING), {value[name]!r}", f"{where}.{name}")


def check_android(android):
    android = fields(android, ANDROID_FIELDS, "message.android")
    string_fields(android, ("collapse_key", "restricted_package_name"), "message.android")
    if "priority" in android and str(android["priority"]).upper() not in PRIORITIES:
        raise Invalid(f"Invalid value at 'message.android.priority' "
                      f"(type.googleapis.com/google.firebase.fcm.v1.AndroidMessagePriority), "
                      f"\"{android['priority']}\"", "message.android.priority")
    if "ttl" in android:
        ttl = android["ttl"]
        if not isinstance(ttl, str) or not DURATION.match(ttl):
            raise Invalid("Invalid value at 'message.android.ttl' (type.googleapis.com/google.protobuf.Duration), "
                          "Illegal duration format; duration must end with 's'", "message.android.ttl")
        if float(ttl[:-1]) > MAX_TTL:
            raise Invalid("The TTL may be at most four weeks", "message.android.ttl")
    if "data" in android:
        check_data(android["data"], "message.android.data")
    if "notification" in android:
        notification = fields(android["notification"], ANDROID_NOTIFICATION_FIELDS, "message.android.notification")
        string_fields(notification, ("title", "body", "icon", "color", "sound", "tag", "click_action",
                                     "channel_id", "image"), "message.android.notification")
    if "fcm_options" in android:
        fields(android["fcm_options"], FCM_OPTIONS_FIELDS, "message.android.fcm_options")


def check_apns(apns):
    apns = fields(apns, APNS_FIELDS, "message.apns")
    if "headers" in apns:
        string_map(apns["headers"], "message.apns.headers")
    if "payload" in apns and not isinstance(apns["payload"], dict):
        raise Invalid("Invalid value at 'message.apns.payload' (type.googleapis.com/google.protobuf.Struct)",
                      "message.apns.payload")
    if "fcm_options" in apns:
        fields(apns["fcm_options"], APNS_FCM_OPTIONS_FIELDS, "message.apns.fcm_options")


def check_webpush(webpush):
    webpush = fields(webpush, WEBPUSH_FIELDS, "message.webpush")
    if "headers" in webpush:
        string_map(webpush["headers"], "message.webpush.headers")
    if "data" in webpush:
        string_map(webpush["data"], "message.webpush.data")
    if "notification" in webpush and not isinstance(webpush["notification"], dict):
        raise Invalid("Invalid value at 'message.webpush.notification' (type.googleapis.com/google.protobuf.Struct)",
                      "message.webpush.notification")
    if "fcm_options" in webpush:
        fields(webpush["fcm_options"], WEBPUSH_FCM_OPTIONS_FIELDS, "message.webpush.fcm_options")


def check_data(data, where):
    string_map(data, where)
    for key in data:
        lowered = key.lower()
        if lowered in RESERVED_DATA_KEYS or lowered.startswith(("google", "gcm")):
            raise Invalid(f"Invalid data payload key: {key}", where)


def check(body):
    """The message of a send request body, checked; raises Invalid."""
    body = fields(body, {"message", "validate_only"}, "")
    if "message" not in body:
        raise Invalid("The message is missing", "message")
    if "validate_only" in body and not isinstance(body["validate_only"], bool):
        raise Invalid("Invalid value at 'validate_only' (TYPE_BOOL)", "validate_only")
    message = fields(body["message"], MESSAGE_FIELDS, "message")
    targets = [name for name in ("token", "topic", "condition") if name in message]
    if not targets:
        raise Invalid("Recipient of the message is not set.", "message")
    if len(targets) > 1:
        raise Invalid(f"Invalid value at 'message' (oneof field 'target' is already set. Cannot set '{targets[1]}')",
                      "message")
    string_fields(message, ("token", "topic", "condition", "name"), "message")
    if "data" in message:
        check_data(message["data"], "message.data")
    if "notification" in message:
        notification = fields(message["notification"], NOTIFICATION_FIELDS, "message.notification")
        string_fields(notification, NOTIFICATION_FIELDS, "message.notification")
    if "android" in message:
        check_android(message["android"])
    if "apns" in message:
        check_apns(message["apns"])
    if "webpush" in message:
        check_webpush(message["webpush"])
    if "fcm_options" in message:
        fields(message["fcm_options"], FCM_OPTIONS_FIELDS, "message.fcm_options")
    return message, bool(body.get("validate_only", False))
