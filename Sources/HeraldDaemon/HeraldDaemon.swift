import Hummingbird
import Prometheus
import ServiceLifecycle

/// The daemon: scheduler, dispatcher, HTTP API, systemd integration.
public enum HeraldDaemon {}
