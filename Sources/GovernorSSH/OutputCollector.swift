/// A command's stdout and stderr, kept up to a shared limit.
struct OutputCollector {
    let limit: Int
    private(set) var stdout: [UInt8] = []
    private(set) var stderr: [UInt8] = []
    private(set) var truncated = false

    init(limit: Int) {
        self.limit = max(0, limit)
    }

    mutating func append(_ bytes: Slice<UnsafeRawBufferPointer>, stderr isStderr: Bool) {
        let room = limit - stdout.count - stderr.count
        let kept = bytes.prefix(max(0, room))
        if kept.count < bytes.count { truncated = true }
        if isStderr { stderr.append(contentsOf: kept) } else { stdout.append(contentsOf: kept) }
    }
}
