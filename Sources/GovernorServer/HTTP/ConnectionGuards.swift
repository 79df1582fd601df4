import HTTPTypes
import Logging
import NIOCore
import NIOHTTPTypes
import Synchronization

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

/// How many connections each client address holds, shared by every connection's
/// ``ConnectionLimitHandler``.
final class ConnectionCounter: Sendable {
    private let counts = Mutex<[String: Int]>([:])
    let limit: Int
    private let logger: Logger

    init(limit: Int, logger: Logger) {
        self.limit = limit
        self.logger = logger
    }

    /// Counts a new connection; false (and not counted) when the address is at its limit.
    func open(_ address: String) -> Bool {
        let admitted = counts.withLock { counts in
            let current = counts[address, default: 0]
            guard current < limit else { return false }
            counts[address] = current + 1
            return true
        }
        if !admitted {
            logger.warning("refused a connection: \(limit) connections from \(address) are open (max_connections_per_client)")
        }
        return admitted
    }

    func close(_ address: String) {
        counts.withLock { counts in
            let left = counts[address, default: 1] - 1
            counts[address] = left > 0 ? left : nil
        }
    }
}

/// Closes a connection at once when its address already holds
/// `max_connections_per_client` connections.
final class ConnectionLimitHandler: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart

    private let counter: ConnectionCounter
    private var address: String?

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
        if counter.open(client) {
            address = client
        } else {
            context.close(promise: nil)
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        release()
        context.fireChannelInactive()
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        release()
    }

    private func release() {
        if let address {
            counter.close(address)
            self.address = nil
        }
    }
}
