import Foundation

/// A serial executor with a thread of its own.
///
/// An ``SSHConnection`` runs on one of these, so that libssh2's calls, which wait on
/// a socket, occupy a thread that does nothing else: never a NIO event loop and never
/// a thread of Swift's cooperative pool, which other tasks need to make progress.
/// A probe that hangs costs exactly one parked thread until its timeout.
///
/// - Important: Call ``shutdown()`` once nothing will be enqueued any more (the
///   owning actor's `deinit`); the thread drains its queue and ends.
final class DedicatedThreadExecutor: SerialExecutor, @unchecked Sendable {
    // `@unchecked Sendable`: `queue` and `finished` are only touched with `condition` locked.
    private let condition = NSCondition()
    private var queue: [UnownedJob] = []
    private var finished = false

    init(name: String) {
        let thread = Thread { [self] in runJobs() }
        thread.name = name
        // libssh2 and the poll loop need little stack; 512 KiB keeps hundreds of parked threads cheap.
        thread.stackSize = 512 * 1024
        thread.start()
    }

    func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        condition.lock()
        queue.append(job)
        condition.signal()
        condition.unlock()
    }

    func asUnownedSerialExecutor() -> UnownedSerialExecutor {
        UnownedSerialExecutor(ordinary: self)
    }

    func shutdown() {
        condition.lock()
        finished = true
        condition.signal()
        condition.unlock()
    }

    private func runJobs() {
        while true {
            condition.lock()
            while queue.isEmpty && !finished {
                condition.wait()
            }
            if queue.isEmpty {
                condition.unlock()
                return
            }
            let job = queue.removeFirst()
            condition.unlock()
            job.runSynchronously(on: asUnownedSerialExecutor())
        }
    }
}
