/// Estimates how far the probe's clock is from the governor's, NTP-style.
///
/// Every answer carries `server_time`; with the request's send time t0 and the
/// answer's receive time t1 (probe clock), the offset is server_time − (t0 + t1) / 2,
/// good to within half the round trip. Samples with a long round trip are the least
/// certain, so the estimate follows the sample with the shortest round trip among
/// the last few, smoothed so that one odd answer cannot swing it.
public struct ClockOffsetEstimator: Sendable {
    public struct Sample: Sendable, Equatable {
        /// Server clock minus probe clock, in seconds.
        public var offset: Double
        public var roundTrip: Double
    }

    private var recent: [Sample] = []
    private let window: Int
    private let smoothing: Double
    /// The smoothed offset (server minus probe, seconds); nil before the first sample.
    public private(set) var offset: Double?

    public init(window: Int = 8, smoothing: Double = 0.3) {
        self.window = max(1, window)
        self.smoothing = min(max(smoothing, 0.01), 1)
    }

    /// Adds one exchange: sent at `t0`, answered at `t1` (probe clock), `serverTime` in the answer.
    @discardableResult
    public mutating func add(sentAt t0: Double, receivedAt t1: Double, serverTime: Double) -> Sample {
        let sample = Sample(offset: serverTime - (t0 + t1) / 2, roundTrip: max(0, t1 - t0))
        recent.append(sample)
        if recent.count > window { recent.removeFirst(recent.count - window) }
        let best = recent.min { $0.roundTrip < $1.roundTrip } ?? sample
        offset = offset.map { $0 + smoothing * (best.offset - $0) } ?? best.offset
        return sample
    }

    /// The probe's clock minus the governor's, in milliseconds, as results report it.
    public var probeMinusServerMs: Double? {
        offset.map { -$0 * 1000 }
    }
}
