// The governor's view of libssh2 (Debian: libssh2-1-dev).
//
// Swift imports libssh2's functions directly but not its function-like macros;
// each wrapper below stands in for one such macro, with the same meaning.
#ifndef GOVERNOR_CLIBSSH2_SHIM_H
#define GOVERNOR_CLIBSSH2_SHIM_H

#include <libssh2.h>

/// `libssh2_session_init()`: a session with libssh2's default allocators.
static inline LIBSSH2_SESSION *governor_libssh2_session_init(void) {
    return libssh2_session_init_ex(NULL, NULL, NULL, NULL);
}

/// `libssh2_channel_open_session()`: a session channel with the default window and packet sizes.
static inline LIBSSH2_CHANNEL *governor_libssh2_channel_open_session(LIBSSH2_SESSION *session) {
    return libssh2_channel_open_ex(session, "session", sizeof("session") - 1,
                                   LIBSSH2_CHANNEL_WINDOW_DEFAULT, LIBSSH2_CHANNEL_PACKET_DEFAULT, NULL, 0);
}

/// `libssh2_channel_exec()`: an "exec" request with `command` (NUL-terminated).
static inline int governor_libssh2_channel_exec(LIBSSH2_CHANNEL *channel, const char *command) {
    return libssh2_channel_process_startup(channel, "exec", sizeof("exec") - 1, command, (unsigned int)strlen(command));
}

/// `libssh2_channel_read()` and `libssh2_channel_read_stderr()`: stream 0 is stdout, 1 is stderr.
static inline ssize_t governor_libssh2_channel_read(LIBSSH2_CHANNEL *channel, int stream, char *buffer, size_t length) {
    return libssh2_channel_read_ex(channel, stream, buffer, length);
}

/// `libssh2_channel_write()`: `length` bytes to the channel's stdin (stream 0).
static inline ssize_t governor_libssh2_channel_write(LIBSSH2_CHANNEL *channel, const char *buffer, size_t length) {
    return libssh2_channel_write_ex(channel, 0, buffer, length);
}

/// `libssh2_userauth_publickey_fromfile()`: public-key authentication with a private key file;
/// the public key is derived from the private one.
static inline int governor_libssh2_userauth_publickey_fromfile(LIBSSH2_SESSION *session, const char *user,
                                                               const char *privateKey, const char *passphrase) {
    return libssh2_userauth_publickey_fromfile_ex(session, user, (unsigned int)strlen(user), NULL, privateKey, passphrase);
}

/// `libssh2_session_disconnect()`: an orderly SSH_MSG_DISCONNECT ("by application").
static inline int governor_libssh2_session_disconnect(LIBSSH2_SESSION *session, const char *description) {
    return libssh2_session_disconnect_ex(session, SSH_DISCONNECT_BY_APPLICATION, description, "");
}

#endif
