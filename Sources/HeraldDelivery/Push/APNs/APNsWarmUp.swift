/// Lets one push go alone while no connection to APNs is known to be up; the rest wait for its answer.
///
/// APNs starts a connection with a low stream limit and raises it once a valid provider token was seen. A burst
/// sent into a fresh connection would overflow that limit, and libcurl opens a new connection for each transfer
/// that does not fit: hundreds of TLS handshakes instead of one connection with many streams (docs/push.md).
actor APNsWarmUp {
    private enum State { case cold, probing, warm }

    private var state = State.cold
    private var waiting: [CheckedContinuation<Void, Never>] = []

    /// Waits while another push probes; true when the caller is the probe and must call `finished(connected:)`.
    func enter() async -> Bool {
        while true {
            switch state {
            case .warm: return false
            case .cold:
                state = .probing
                return true
            case .probing: await withCheckedContinuation { waiting.append($0) }
            }
        }
    }

    /// The probe's end: warm when APNs answered it (whatever the status), cold again when no answer came.
    func finished(connected: Bool) {
        state = connected ? .warm : .cold
        let resumed = waiting
        waiting = []
        for continuation in resumed { continuation.resume() }
    }

    /// A push got no answer: the connection may be gone, so the next push probes a new one.
    func lost() {
        if state == .warm { state = .cold }
    }
}
