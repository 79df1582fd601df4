import Foundation
import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Bounds what one HTTP connection can cost the governor.
///
/// - A request must be complete (headers and body) within `request_timeout` of its
///   first byte; a client that trickles a byte a second, or a header line a second,
///   is never idle, so the idle timeout alone would let it hold the connection for
///   good. The head is still being decoded then, so the first byte is seen by a
///   ``RequestStartWatcher`` this handler puts in front of the HTTP decoder.
/// - A response that says `Connection: close` closes the connection once written:
///   the API answers that way when it refused a request without reading its body
///   (a wrong token), so that the body is never read.
final class RequestDeadlineHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let timeout: TimeAmount
    private var deadline: Scheduled<Void>?
    /// When the first byte of the request under way arrived; nil between requests.
    private var began: NIODeadline?
    private var closeAfterResponse = false

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        try? context.pipeline.syncOperations.addHandler(RequestStartWatcher(owner: self), position: .first)
    }

    /// Bytes arrived before the HTTP decoder: a request has begun unless one is
    /// already under way.
    fileprivate func bytesArrived() {
        if began == nil { began = .now() }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .end = unwrapInboundIn(data) {
            began = nil
            deadline?.cancel()
            deadline = nil
        }
        context.fireChannelRead(data)
    }

    /// The deadline is set only when a read ends with a request still incomplete,
    /// counted from its first byte: a request that arrives whole, as nearly all do,
    /// costs no timer.
    func channelReadComplete(context: ChannelHandlerContext) {
        if let began, deadline == nil {
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            deadline = context.eventLoop.scheduleTask(deadline: began + timeout) {
                loopBound.value.close(promise: nil)
            }
        }
        context.fireChannelReadComplete()
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let part = unwrapOutboundIn(data)
        switch part {
        case .head(let head):
            closeAfterResponse = head.headerFields[.connection]?.lowercased() == "close"
            context.write(data, promise: promise)
        case .body:
            context.write(data, promise: promise)
        case .end:
            guard closeAfterResponse else {
                context.write(data, promise: promise)
                return
            }
            closeAfterResponse = false
            deadline?.cancel()
            deadline = nil
            let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
            let written = context.eventLoop.makePromise(of: Void.self)
            written.futureResult.whenComplete { _ in
                loopBound.value.close(promise: nil)
            }
            written.futureResult.cascade(to: promise)
            context.writeAndFlush(data, promise: written)
        }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        deadline?.cancel()
    }

    func channelInactive(context: ChannelHandlerContext) {
        deadline?.cancel()
        context.fireChannelInactive()
    }
}

/// The first handler of a connection: tells its ``RequestDeadlineHandler`` that
/// bytes arrived, before the HTTP decoder has made a request head of them.
private final class RequestStartWatcher: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = ByteBuffer
    private let owner: RequestDeadlineHandler

    init(owner: RequestDeadlineHandler) {
        self.owner = owner
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        owner.bytesArrived()
        context.fireChannelRead(data)
    }
}

/// The connections the governor holds, shared by every connection's
/// ``ConnectionLimitHandler``: how many each client address holds (at most
/// `max_connections_per_client`), and how many in all (at most `max_connections`).
///
/// At the total cap a new connection makes room by closing the connection that has
/// been idle longest (between requests, or never sent one); when every connection
/// is in the middle of a request, the new one is closed at once. So the governor
/// never runs out of descriptors (where `accept` would fail and be retried), and a
/// flood of idle keep-alive connections cannot shut probes out.
final class ConnectionCounter: Sendable {
    private struct State {
        var perAddress: [String: Int] = [:]
        var connections: [ObjectIdentifier: ConnectionActivity] = [:]
    }

    private let state = Mutex(State())
    let limit: Int
    let totalLimit: Int
    private let logger: Logger

    init(limit: Int, totalLimit: Int, logger: Logger) {
        self.limit = limit
        self.totalLimit = totalLimit
        self.logger = logger
    }

    /// The default `max_connections`: the descriptors the process may still open
    /// (its `RLIMIT_NOFILE` less those open now: the state database, the event loops,
    /// the logs), less a quarter of them (at least 32, at most 128) for what it opens
    /// later: its own threads and sockets, SSH sessions, database connections, files.
    /// A cap above what the process can open would let `accept` fail for lack of
    /// descriptors, which makes the server spin a core.
    static func defaultTotalLimit() -> Int {
        var limit = rlimit()
        guard getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return 1024 }
        // RLIM_INFINITY is the largest value: the minimum covers it.
        let descriptors = Int(min(limit.rlim_cur, 1 << 20))
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count) ?? 64
        let free = descriptors - open
        return max(8, free - min(128, max(32, free / 4)))
    }

    /// Counts a new connection from `address`: its activity record, or nil (and not
    /// counted) when the address is at its limit, or all connections are busy at the
    /// total limit. Taken once per connection, never per request.
    func open(_ address: String, channel: any Channel) -> ConnectionActivity? {
        enum Verdict { case admitted(ConnectionActivity), perAddress, total }
        let (verdict, evicted) = state.withLock { state -> (Verdict, (any Channel)?) in
            let current = state.perAddress[address, default: 0]
            guard current < limit else { return (.perAddress, nil) }
            var evicted: (any Channel)?
            if state.connections.count >= totalLimit {
                // The longest idle makes room (a scan, only at the cap); its own close finds it gone.
                var oldest: ConnectionActivity?
                for connection in state.connections.values {
                    let since = connection.idleSince.load(ordering: .relaxed)
                    if since != 0 && since < oldest.map({ $0.idleSince.load(ordering: .relaxed) }) ?? .max { oldest = connection }
                }
                guard let oldest else { return (.total, nil) }
                state.connections[ObjectIdentifier(oldest.channel)] = nil
                Self.release(oldest.address, in: &state)
                evicted = oldest.channel
            }
            state.perAddress[address] = current + 1
            let activity = ConnectionActivity(channel: channel, address: address)
            state.connections[ObjectIdentifier(channel)] = activity
            return (.admitted(activity), evicted)
        }
        evicted?.close(promise: nil)
        switch verdict {
        case .admitted(let activity): return activity
        case .perAddress: logger.warning("refused a connection: \(limit) connections from \(address) are open (max_connections_per_client)")
        case .total: logger.warning("refused a connection from \(address): \(totalLimit) connections are open and none is idle (max_connections)")
        }
        return nil
    }

    /// The connection closed; nothing happens if it was closed to make room.
    func close(_ connection: ConnectionActivity) {
        state.withLock { state in
            guard state.connections.removeValue(forKey: ObjectIdentifier(connection.channel)) != nil else { return }
            Self.release(connection.address, in: &state)
        }
    }

    private static func release(_ address: String, in state: inout State) {
        let left = state.perAddress[address, default: 1] - 1
        state.perAddress[address] = left > 0 ? left : nil
    }
}

/// One connection as ``ConnectionCounter`` knows it. Its handler marks it busy and
/// idle with an atomic store, so that a request costs no shared lock.
final class ConnectionActivity: Sendable {
    let channel: any Channel
    let address: String
    /// When it last became idle (uptime in nanoseconds); 0 while a request is under way.
    let idleSince: Atomic<UInt64>

    init(channel: any Channel, address: String) {
        self.channel = channel
        self.address = address
        idleSince = Atomic(NIODeadline.now().uptimeNanoseconds | 1)
    }

    /// A request began (`busy`) or its response was written.
    func mark(busy: Bool) {
        idleSince.store(busy ? 0 : NIODeadline.now().uptimeNanoseconds | 1, ordering: .relaxed)
    }
}

/// Closes a connection at once when its address already holds
/// `max_connections_per_client` connections, or when the governor holds
/// `max_connections` and none is idle; tells the counter when the connection is
/// busy with a request and when it is idle again.
final class ConnectionLimitHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    private let counter: ConnectionCounter
    private var connection: ConnectionActivity?
    private var admitted = false

    init(counter: ConnectionCounter) {
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if !admitted { admit(context) }
        context.fireChannelActive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        admitted = true
        connection = counter.open(context.channel.remoteAddress?.ipAddress ?? "unknown", channel: context.channel)
        if connection == nil { context.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data) { connection?.mark(busy: true) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data) { connection?.mark(busy: false) }
        context.write(data, promise: promise)
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func release() {
        if let connection { counter.close(connection) }
        connection = nil
    }
}
