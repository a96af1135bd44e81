package dev.tollgate.sidecar.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.netty.channel.epoll.Epoll;
import io.netty.channel.epoll.EpollServerSocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import org.junit.jupiter.api.Test;

class TransportTest {
  @Test
  void autoIsEpollWhereItLoads() {
    assertThat(Epoll.isAvailable())
        .as("this build machine is Linux: the epoll library must load")
        .isTrue();
    assertThat(Transport.choose(null).name()).isEqualTo("epoll");
    assertThat(Transport.choose(" ").serverChannel()).isEqualTo(EpollServerSocketChannel.class);
    assertThat(Transport.choose("AUTO").name()).isEqualTo("epoll");
    assertThat(Transport.choose("epoll").name()).isEqualTo("epoll");
  }

  @Test
  void nioWhenAsked() {
    Transport nio = Transport.choose(" NIO ");
    assertThat(nio.name()).isEqualTo("nio");
    assertThat(nio.serverChannel()).isEqualTo(NioServerSocketChannel.class);
  }

  @Test
  void anUnknownSettingIsRefused() {
    assertThatThrownBy(() -> Transport.choose("io_uring"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("TOLLGATE_TRANSPORT must be auto, epoll or nio, not io_uring");
  }
}
