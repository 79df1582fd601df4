import Synchronization

/// A state operation with a time limit.
public enum Deadline {
    /// The operation's result, or `timeout()`'s error once `limit` has passed, whichever
    /// comes first. Not a task group: a group waits for all its tasks, and a query
    /// waiting for a connection to a database that is gone may not end at once when
    /// cancelled; the caller must not wait with it. The operation is cancelled and
    /// ends in the background.
    public static func race<T: Sendable>(_ operation: @escaping @Sendable () async throws -> T, against limit: Duration,
                                         timeout: @escaping @Sendable () -> any Error) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            let once = ResumeOnce(continuation)
            let work = Mutex<Task<Void, Never>?>(nil)
            let timer = Task {
                do { try await Task.sleep(for: limit) } catch { return }  // the operation ended first
                if once.resume(with: .failure(timeout())) { work.withLock { $0 }?.cancel() }
            }
            let task = Task {
                let result: Result<T, any Error>
                do { result = .success(try await operation()) } catch { result = .failure(error) }
                timer.cancel()
                once.resume(with: result)
            }
            work.withLock { $0 = task }
        }
    }
}

/// A continuation resumed by whichever of two tasks comes first.
private final class ResumeOnce<T: Sendable>: Sendable {
    private let continuation: Mutex<CheckedContinuation<T, any Error>?>

    init(_ continuation: CheckedContinuation<T, any Error>) {
        self.continuation = Mutex(continuation)
    }

    /// Resumes unless resumed before; true when this call did.
    @discardableResult
    func resume(with result: Result<T, any Error>) -> Bool {
        guard let continuation = self.continuation.withLock({ $0.take() }) else { return false }
        continuation.resume(with: result)
        return true
    }
}
