"""Real servers for tests: harness (start/stop by PID on free loopback ports), scenario, fixtures.

Modules: proc (ports, polling, Server), accounts (system test users), syslog (private rsyslogd
and /dev/log), vsftpd, proftpd, pureftpd, openssh (one starter each), handle (RunningServer),
clients (ftplib/paramiko bound to 127.0.0.x), scenario, servers (STARTERS), fixtures (pytest).

What we learned running them (Debian 12: vsftpd 3.0.3, ProFTPD 1.3.8, Pure-FTPd 1.0.50,
OpenSSH 9.2, rsyslog 8.2302):

- Accounts: real users alice, bob, carol, labsync (accounts.PASSWORDS) with homes under
  /srv/sentinel-test/home and shell /bin/bash (vsftpd's PAM stack ends in pam_shells). Names
  in accounts.MISSING_USERS never exist. Anonymous root is /srv/ftp, the `ftp` account's
  home, because Pure-FTPd always uses that one. Each pam_unix failure costs ~2 s (its
  built-in delay; Pure-FTPd adds its own, 5-8 s in all), so the scenario fails in parallel.
- No /dev/log on this machine. Servers that use syslog(3) run under `unshare --mount` with a
  private tmpfs /dev (bind-mounted null, zero, urandom, ... and `log` -> the socket of a
  rsyslogd of our own, which listens on a socket in a short /tmp dir of its own, mode 0711:
  internal-sftp logs as the logged-in user, and AF_UNIX paths must fit in 108 bytes).
  rsyslogd writes auth, authpriv and ftp facilities twice: RSYSLOG_TraditionalFileFormat
  ("Nov 23 02:25:49 vm vsftpd: ...") and RSYSLOG_FileFormat (RFC 3339 with microseconds and
  offset). imuxsock's rate limit must be off: 105 sftp transfers log ~300 lines at once.
- vsftpd: config file owned by root; listen=YES + background=NO keeps the listener in the
  foreground. dual_log_enable=YES writes vsftpd_log_file (its own format: CONNECT, OK/FAIL
  LOGIN, OK UPLOAD/DOWNLOAD/MKDIR/DELETE/RMDIR, pid in "[pid N]") and xferlog_file (standard
  xferlog). Anonymous logs as user "ftp" with `anon password "..."` in vsftpd.log and the
  password as user name in xferlog. PAM lines (pam_unix(vsftpd:auth)) go to syslog without
  a pid. delay_failed_login=0 is accepted; seccomp_sandbox=NO, isolate=NO and
  isolate_network=NO are needed in a container; secure_chroot_dir must exist.
- ProFTPD: run from .servers/root with LD_LIBRARY_PATH and ModulePath. `proftpd -n` sends
  every line to stderr instead of SystemLog, so it runs as a daemon and is stopped by the PID
  in its PidFile. SyslogLevel info is needed for "USER alice: Login successful." / "ANON ftp:
  Login successful."; failures are "USER alice (Login failed): Incorrect password" and
  "USER x: no such user found from ...". Transfers appear only in TransferLog (xferlog),
  which also logs deletions (direction "d") and the anonymous password as user name.
  PAM's own lines are not captured (no /dev/log for it).
- Pure-FTPd: logs only through syslog (facility ftp, ident "pure-ftpd", no pid): "(?@ip)
  [INFO] New connection", "alice is now logged in", "[WARNING] Authentication failed for
  user [x]", "(user@ip) [NOTICE] //path downloaded  (N bytes, ...)", "Deleted //path"; it
  does not log mkdir/rmdir. --altlog xferlog:PATH writes the xferlog. With --login pam its
  PAM lines say rhost=<hostname>, not the client address.
- sshd: needs /run/sshd, an absolute path (it re-executes itself) and a host key; `-D`
  keeps it in the foreground. internal-sftp (-l INFO) logs open/close/mkdir/remove/rmdir
  with bytes read/written only through syslog, never to `sshd -E`. Invalid users log
  "Invalid user x from ip port n" then "Failed password for invalid user x ...".
"""
