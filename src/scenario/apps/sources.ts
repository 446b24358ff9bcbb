/** The public sources app profiles cite, each once (the reference is throttling-facts.md). */

export const META_NETWORK =
  'Meta for Developers, WhatsApp Business API "Network Requirements" (developers.facebook.com/docs/whatsapp/guides/network-requirements)';
export const WHATSMEOW_KEEPALIVE =
  'whatsmeow keepalive.go (github.com/tulir/whatsmeow), a WhatsApp multi-device client';
export const WHATSMEOW_RECONNECT = 'whatsmeow client.go autoReconnect (github.com/tulir/whatsmeow)';
export const BAILEYS_DEFAULTS =
  'Baileys src/Defaults (github.com/WhiskeySockets/Baileys), a WhatsApp Web client';
export const FACTS_PORTS =
  'throttling-facts §4: zapret-openwrt #377, #520; Flowseal/zapret-discord-youtube #6148; youtubeUnblock #332';
export const FACTS_WORKAROUNDS = 'throttling-facts §4: ByeDPIAndroid #321; Outline #2257';
export const TDLIB_SESSION =
  'TDLib td/mtproto/SessionConnection.h (github.com/tdlib/td), the library of Telegram clients';
export const MTPROTO = 'core.telegram.org, "MTProto transports"; messengers.yaml sources';
export const SIGNAL_HEALTH =
  'Signal-Android app/src/main/java/org/thoughtcrime/securesms/net/SignalWebSocketHealthMonitor.kt (github.com/signalapp/Signal-Android)';
export const OONI_SIGNAL =
  'OONI test spec ts-029-signal (peers reference): the endpoints Signal uses';
export const MAX_ZAPRET = 'zapret-openwrt #747 (messengers.yaml sources): Max over WebSocket';
export const SLIXMPP =
  'slixmpp 1.8.3 (Debian python3-slixmpp): plugins/xep_0199/ping.py and xmlstream/xmlstream.py';
