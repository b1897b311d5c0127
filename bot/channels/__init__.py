"""Channels: each turns what arrives into a core.channel.Inbound, hands it to its
ChannelHost, and delivers what goes out. A channel never holds the core itself."""
