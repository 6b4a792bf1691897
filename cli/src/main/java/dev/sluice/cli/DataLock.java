package dev.sluice.cli;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * One {@code sluice up} per data directory: an OS file lock on {@code <data>/up.lock}, released when
 * the process ends however it ends. The file says who holds it, so a second {@code up} can tell the user.
 */
final class DataLock implements AutoCloseable {

    private final FileChannel channel;
    private final FileLock lock;

    private DataLock(FileChannel channel, FileLock lock) {
        this.channel = channel;
        this.lock = lock;
    }

    /** @throws IllegalStateException when another process holds the directory */
    static DataLock acquire(Path dataDirectory, int adminPort) {
        Path file = dataDirectory.resolve("up.lock");
        try {
            Files.createDirectories(dataDirectory);
            FileChannel channel = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.READ,
                    StandardOpenOption.WRITE);
            FileLock lock;
            try {
                lock = channel.tryLock();
            } catch (java.nio.channels.OverlappingFileLockException thisJvmHoldsIt) {
                lock = null;
            }
            if (lock == null) {
                String holder = Files.readString(file, StandardCharsets.UTF_8).strip();
                channel.close();
                throw new IllegalStateException("sluice up is already running with the data in " + dataDirectory
                        + (holder.isEmpty() ? "" : " (" + holder + ")")
                        + "; stop it first (Ctrl-C in its terminal), or use another --data-dir");
            }
            DataLock dataLock = new DataLock(channel, lock);
            dataLock.record("starting, admin port " + adminPort);
            return dataLock;
        } catch (IOException e) {
            throw new UncheckedIOException("could not lock " + file, e);
        }
    }

    /** Writes who holds the lock and where its admin service answers. */
    void record(String admin) {
        String text = "pid " + ProcessHandle.current().pid() + ", admin " + admin;
        try {
            channel.truncate(0);
            channel.write(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), 0);
            channel.force(false);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    @Override
    public void close() {
        try {
            lock.release();
            channel.close();
        } catch (IOException ignored) {
            // the process is ending; the OS releases the lock with it
        }
    }
}
