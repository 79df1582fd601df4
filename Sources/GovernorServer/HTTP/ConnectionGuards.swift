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
    /// A request's head has come and its end not yet.
    private var incomplete = false
    private var closeAfterResponse = false
    private var context: ChannelHandlerContext?

    init(timeout: TimeAmount) {
        self.timeout = timeout
    }

    func handlerAdded(context: ChannelHandlerContext) {
        self.context = context
        try? context.pipeline.syncOperations.addHandler(RequestStartWatcher(owner: self), position: .first)
    }

    /// Bytes arrived before the HTTP decoder: a request has begun unless one is
    /// already timed.
    fileprivate func bytesArrived() {
        guard deadline == nil, let context else { return }
        startDeadline(context)
    }

    private func startDeadline(_ context: ChannelHandlerContext) {
        let loopBound = NIOLoopBound(context, eventLoop: context.eventLoop)
        deadline = context.eventLoop.scheduleTask(in: timeout) {
            loopBound.value.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head:
            incomplete = true
        case .end:
            incomplete = false
            deadline?.cancel()
            deadline = nil
        case .body:
            break
        }
        context.fireChannelRead(data)
    }

    /// The deadline starts only when a read ends with a request still incomplete: a
    /// request that arrives whole, as nearly all do, costs no timer.
    func channelReadComplete(context: ChannelHandlerContext) {
        if incomplete && deadline == nil { startDeadline(context) }
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
        self.context = nil
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
    private struct Connection {
        var channel: any Channel
        /// When it last became idle (a sequence number, not a time): nil while a request is under way.
        var idleSince: UInt64?
    }

    private struct State {
        var perAddress: [String: Int] = [:]
        var connections: [ObjectIdentifier: Connection] = [:]
        var sequence: UInt64 = 0
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

    /// Counts a new connection from `address`; false (and not counted) when the
    /// address is at its limit, or all connections are busy at the total limit.
    func open(_ address: String, channel: any Channel) -> Bool {
        enum Verdict { case admitted, perAddress, total }
        let (verdict, evicted) = state.withLock { state -> (Verdict, (any Channel)?) in
            let current = state.perAddress[address, default: 0]
            guard current < limit else { return (.perAddress, nil) }
            var evicted: (any Channel)?
            if state.connections.count >= totalLimit {
                // The longest idle makes room; its own release finds it gone.
                guard let oldest = state.connections.filter({ $0.value.idleSince != nil }).min(by: { $0.value.idleSince! < $1.value.idleSince! }) else {
                    return (.total, nil)
                }
                state.connections[oldest.key] = nil
                if let remote = oldest.value.channel.remoteAddress?.ipAddress { Self.release(remote, in: &state) }
                evicted = oldest.value.channel
            }
            state.perAddress[address] = current + 1
            state.sequence += 1
            state.connections[ObjectIdentifier(channel)] = Connection(channel: channel, idleSince: state.sequence)
            return (.admitted, evicted)
        }
        evicted?.close(promise: nil)
        switch verdict {
        case .admitted: return true
        case .perAddress: logger.warning("refused a connection: \(limit) connections from \(address) are open (max_connections_per_client)")
        case .total: logger.warning("refused a connection from \(address): \(totalLimit) connections are open and none is idle (max_connections)")
        }
        return false
    }

    /// A request began (`busy`) or its response was written on the connection.
    func mark(_ channel: any Channel, busy: Bool) {
        state.withLock { state in
            let id = ObjectIdentifier(channel)
            guard state.connections[id] != nil else { return }
            state.sequence += 1
            state.connections[id]?.idleSince = busy ? nil : state.sequence
        }
    }

    /// The connection closed; nothing happens if it was closed to make room.
    func close(_ address: String, channel: any Channel) {
        state.withLock { state in
            guard state.connections.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
            Self.release(address, in: &state)
        }
    }

    private static func release(_ address: String, in state: inout State) {
        let left = state.perAddress[address, default: 1] - 1
        state.perAddress[address] = left > 0 ? left : nil
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
    private var address: String?
    private var channel: (any Channel)?

    init(counter: ConnectionCounter) {
        self.counter = counter
    }

    func handlerAdded(context: ChannelHandlerContext) {
        if context.channel.isActive { admit(context) }
    }

    func channelActive(context: ChannelHandlerContext) {
        if address == nil { admit(context) }
        context.fireChannelActive()
    }

    private func admit(_ context: ChannelHandlerContext) {
        let client = context.channel.remoteAddress?.ipAddress ?? "unknown"
        if counter.open(client, channel: context.channel) {
            address = client
            channel = context.channel
        } else {
            context.close(promise: nil)
        }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        if case .head = unwrapInboundIn(data), let channel { counter.mark(channel, busy: true) }
        context.fireChannelRead(data)
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        if case .end = unwrapOutboundIn(data), let channel { counter.mark(channel, busy: false) }
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
        if let address, let channel {
            counter.close(address, channel: channel)
        }
        address = nil
        channel = nil
    }
}
