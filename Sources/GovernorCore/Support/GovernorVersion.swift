/// The version of governor and governor-probe, in one place: `--version` of both
/// executables, `/healthz`, `/v1/status` and `governor_build_info` in `/metrics`
/// read it, and a test holds the OpenAPI document's `info.version` to it.
public enum GovernorVersion {
    public static let current = "0.4.0"
}
