//===- OutputFile.cpp - write a file whole or not at all -------------------===//

#include "lib/support/OutputFile.h"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace kiln {

const char *fileKindName(unsigned mode) {
  if (S_ISDIR(mode))
    return "a directory";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "a device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

bool checkOutputTarget(const std::string &path, std::string &error) {
  struct stat st;
  if (::stat(path.c_str(), &st) != 0)
    return true; // absent (or a dangling link): created by the rename
  if (S_ISREG(st.st_mode))
    return true;
  error = "'" + path + "' exists and is " + fileKindName(st.st_mode) +
          "; kiln only replaces regular files";
  return false;
}

OutputFile::OutputFile(std::string path) : path_(std::move(path)) {}

OutputFile::~OutputFile() {
  if (fd_ >= 0)
    ::close(fd_);
  if (!committed_ && !tmp_.empty())
    ::unlink(tmp_.c_str());
}

bool OutputFile::fail(const std::string &what, std::string &error) {
  // write() reports a full disk as ENOSPC; a short write with no errno is
  // one too (the next write would say so).
  int e = errno ? errno : ENOSPC;
  error = what + " '" + (tmp_.empty() ? path_ : tmp_) + "': " + std::strerror(e);
  return false;
}

bool OutputFile::open(std::string &error) {
  if (!checkOutputTarget(path_, error))
    return false;
  tmp_ = path_ + ".tmp-XXXXXX";
  errno = 0;
  fd_ = ::mkstemp(tmp_.data());
  if (fd_ < 0) {
    std::string tmp = tmp_;
    tmp_.clear();
    error = "cannot write '" + path_ + "': " + std::strerror(errno) + " (creating '" + tmp + "')";
    return false;
  }
  return true;
}

bool OutputFile::write(const void *data, uint64_t size, std::string &error) {
  const char *p = static_cast<const char *>(data);
  for (uint64_t done = 0; done < size;) {
    errno = 0;
    ssize_t n = ::write(fd_, p + done, size - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("cannot write", error);
    done += (uint64_t)n;
  }
  size_ += size;
  return true;
}

bool OutputFile::writeAt(const void *data, uint64_t size, uint64_t offset,
                         std::string &error) {
  const char *p = static_cast<const char *>(data);
  for (uint64_t done = 0; done < size;) {
    errno = 0;
    ssize_t n = ::pwrite(fd_, p + done, size - done, (off_t)(offset + done));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return fail("cannot write", error);
    done += (uint64_t)n;
  }
  return true;
}

bool OutputFile::commit(std::string &error) {
  errno = 0;
  if (::fsync(fd_) != 0)
    return fail("cannot write", error);
  mode_t mask = ::umask(0);
  ::umask(mask);
  ::fchmod(fd_, 0644 & ~mask);
  int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0)
    return fail("cannot write", error);
  // Checked again: the destination may have been replaced while writing.
  if (!checkOutputTarget(path_, error))
    return false;
  if (::rename(tmp_.c_str(), path_.c_str()) != 0) {
    error = "cannot rename '" + tmp_ + "' to '" + path_ + "': " + std::strerror(errno);
    return false;
  }
  committed_ = true;
  return true;
}

bool writeFileAtomically(const std::string &path, std::string_view data, std::string &error) {
  OutputFile out(path);
  return out.open(error) && out.write(data.data(), data.size(), error) && out.commit(error);
}

} // namespace kiln
