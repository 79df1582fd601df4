import AsyncAlgorithms
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import GovernorCore
import GovernorStore
import Logging
import ServiceLifecycle
import UnixSignals

/// Generates each window by the time it starts, once a second.
struct SchedulerService: Service {
    let scheduler: WindowScheduler
    let heartbeat: LoopHeartbeat
    let clock: ServerClock

    /// The first pass runs at once, while the API already serves: on an empty state
    /// with 10,000 schools it stores 400,000 runs (seconds of disk writes), and a probe
    /// asking meanwhile has its school's window generated and stored on demand, the
    /// same window the pass then finds stored (``ScheduleOwner`` keeps one version).
    func run() async throws {
        // The loop has begun: the watchdog counts from here, so a first pass that hangs is caught too.
        heartbeat.beat(at: clock.seconds)
        await scheduler.generateDueWindows()
        heartbeat.beat(at: clock.seconds)
        var tidied: UnixTime?
        for await _ in AsyncTimerSequence(interval: .seconds(1), clock: .continuous).cancelOnGracefulShutdown() {
            await scheduler.generateDueWindows()
            heartbeat.beat(at: clock.seconds)
            if tidied.map({ clock.seconds - $0 >= 3600 }) ?? true {
                tidied = clock.seconds
                await scheduler.schedule.forgetCancelledRuns(now: clock.seconds)
            }
        }
    }
}

/// Writes recorded contacts to the database twice a second, and once more at shutdown.
struct ContactFlushService: Service {
    let contacts: ContactCache
    let database: any ContactStore
    let outages: StateOutageLog

    func run() async throws {
        for await _ in AsyncTimerSequence(interval: .milliseconds(500), clock: .continuous).cancelOnGracefulShutdown() {
            await flush()
        }
        await flush()
    }

    private func flush() async {
        do {
            if try await contacts.flush(to: database) > 0 { outages.succeeded() }
        } catch {
            outages.failed("cannot store probe contacts (they stay queued)", error)
        }
    }
}

/// Reloads every configuration file on SIGHUP.
///
/// This is the one place the process traps SIGHUP.
struct ReloadService: Service {
    let reloader: ConfigurationReloader
    let notifier: SystemdNotifier

    func run() async throws {
        for await _ in await UnixSignalsSequence(trapping: .sighup).cancelOnGracefulShutdown() {
            notifier.notify("RELOADING=1\nMONOTONIC_USEC=\(MonotonicClock.microseconds())")
            await reloader.reload()
            notifier.notify("READY=1")
        }
    }
}

/// Tells systemd the scheduler is alive, at half the interval it asked for, and only
/// while the scheduler loop keeps completing passes.
struct WatchdogService: Service {
    let heartbeat: LoopHeartbeat
    let clock: ServerClock
    let notifier: SystemdNotifier
    let interval: Duration
    let logger: Logger

    func run() async throws {
        let half = interval / 2
        let stale = max(UnixTime(interval.components.seconds), 3)
        for await _ in AsyncTimerSequence(interval: half, clock: .continuous).cancelOnGracefulShutdown() {
            let lastPass = heartbeat.last
            if clock.seconds - lastPass <= stale {
                notifier.notify("WATCHDOG=1")
            } else {
                logger.warning("the scheduler loop has not completed a pass for \(clock.seconds - lastPass) s; withholding the watchdog ping")
            }
        }
    }
}

/// Tells systemd the service is stopping as soon as a graceful shutdown begins.
struct StoppingNotifier: Service {
    let notifier: SystemdNotifier

    func run() async throws {
        try? await gracefulShutdown()
        notifier.notify("STOPPING=1")
    }
}

/// CLOCK_MONOTONIC in microseconds, which systemd wants with RELOADING=1.
enum MonotonicClock {
    static func microseconds() -> UInt64 {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return UInt64(spec.tv_sec) * 1_000_000 + UInt64(spec.tv_nsec) / 1000
    }
}
