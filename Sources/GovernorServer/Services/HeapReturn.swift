import AsyncAlgorithms
import CMalloc
import Logging
import ServiceLifecycle

/// Keeps the governor's resident memory close to what it uses: glibc's allocator
/// keeps freed memory for reuse, and a governor's big moments free a lot of it at
/// once (start-up reads every stored run, contact and alert state; a reload parses
/// every school file; a page of 500 schools is rendered). At 100,000 probes such
/// moments left the process holding twice the memory it used.
///
/// The only file that calls glibc's allocator controls (``CMalloc``).
enum HeapReturn {
    /// Free memory the allocator may keep before it is handed back.
    static let keepBytes = 32 << 20

    /// At most two arenas, set before the threads start: by default glibc gives up to
    /// eight per core, one per thread that allocates at once, and each keeps its own
    /// free memory. Two cores' worth of threads share two arenas at no measured cost to
    /// `/next` (docs/benchmarks.md).
    static func limitArenas() {
        _ = governor_malloc_limit_arenas(2)
    }

    /// Free memory held by the allocator, in bytes.
    static var freeBytes: Int { Int(governor_malloc_free_bytes()) }

    /// Hands free memory back to the system when the allocator holds more than
    /// ``keepBytes`` of it; returns the bytes it held free before, or nil when it held
    /// less.
    @discardableResult
    static func returnIfLarge() -> Int? {
        let free = freeBytes
        guard free > keepBytes else { return nil }
        _ = malloc_trim(0)
        return free
    }
}

/// Looks every 30 s at the free memory the allocator holds and hands it back when it
/// is large (``HeapReturn``): a look costs microseconds, a return a few milliseconds,
/// and returns happen after the rare moments that free much.
struct HeapReturnService: Service {
    let logger: Logger

    func run() async throws {
        for await _ in AsyncTimerSequence(interval: .seconds(30), clock: .continuous).cancelOnGracefulShutdown() {
            if let free = HeapReturn.returnIfLarge() {
                logger.debug("returned free heap memory to the system", metadata: ["free_mb": "\(free >> 20)"])
            }
        }
    }
}
