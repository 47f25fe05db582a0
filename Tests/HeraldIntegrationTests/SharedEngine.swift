import HeraldDelivery

/// One engine for the whole test process, as in the daemon.
let sharedEngine = CurlEngine()
