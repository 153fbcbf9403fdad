//! An OCPP charging station on a NUCLEO-F429ZI (README.md): Ethernet with DHCP, the station
//! core driven by `ocpp_embedded::Runner`, its durable queue in flash bank 2, a simulated
//! charging session on the user button.
//!
//! Everything a vendor sets first is in the configuration block below.
#![no_std]
#![no_main]

extern crate alloc;

use alloc::format;
use alloc::string::String;
use core::cell::RefCell;
use core::mem::MaybeUninit;
use core::pin::pin;
use core::sync::atomic::{AtomicBool, Ordering};

use defmt::{Debug2Format, error, info, unwrap, warn};
use embassy_executor::Spawner;
use embassy_futures::select::{Either, select};
use embassy_net::dns::DnsQueryType;
use embassy_net::tcp::{State, TcpSocket};
use embassy_net::{Stack, StackResources};
use embassy_stm32::eth::{self, Ethernet, GenericPhy, PacketQueue, Sma};
use embassy_stm32::exti::{self, ExtiInput};
use embassy_stm32::flash::{self, Bank2Region1, Flash};
use embassy_stm32::gpio::{Level, Output, OutputOpenDrain, Pull, Speed};
use embassy_stm32::mode::Async;
use embassy_stm32::peripherals::{ETH, ETH_SMA, RNG};
use embassy_stm32::rng::{self, Rng};
use embassy_stm32::time::Hertz;
use embassy_stm32::{Config, bind_interrupts, interrupt};
use embassy_sync::blocking_mutex::Mutex;
use embassy_sync::blocking_mutex::raw::CriticalSectionRawMutex;
use embassy_sync::channel::Channel;
use embassy_sync::signal::Signal;
use embassy_time::{Duration, Instant, Ticker, Timer, with_timeout};
use embedded_alloc::LlffHeap;
use embedded_storage_async::nor_flash::{ErrorType, MultiwriteNorFlash, NorFlash, ReadNorFlash};
use ocpp_embedded::run::{Connect, Event};
use ocpp_embedded::websocket::Endpoint;
use ocpp_embedded::{AsyncStore, FlashStore, Input, RunConfig, Runner, Shared};
use ocpp_rpc::Millis;
use ocpp_station::{
    BootInfo, ConnectorId, Hardware, IdToken, Reading, ResetKind, Station, StationConfig,
    UnlockResult,
};
use ocpp_types::OcppVersion;
use static_cell::{ConstStaticCell, StaticCell};
use {defmt_rtt as _, panic_probe as _};

// ---------------------------------------------------------------------------------------------
// Configuration: what a vendor changes first.
// ---------------------------------------------------------------------------------------------

/// The CSMS: the station connects to `ws://CSMS_HOST:CSMS_PORT/CSMS_PATH/STATION_IDENTITY`.
/// `CSMS_HOST` is a name (resolved through the DNS server DHCP gives) or an IPv4 address.
const CSMS_HOST: &str = "csms.example.com";
const CSMS_PORT: u16 = 9000;
/// The path before the identity, without the trailing `/` (empty for none).
const CSMS_PATH: &str = "/ocpp";
/// The station's identity: the last path segment of the URL, and the Basic-auth user.
const STATION_IDENTITY: &str = "CS001";
/// The OCPP version spoken. Its cargo feature (`v16`, `v201`, `v21`) must be enabled; the
/// default build has `v201` only.
const OCPP_VERSION: OcppVersion = OcppVersion::V201;
/// Security profile 1: HTTP Basic auth with this password (`BasicAuthPassword`, 1.6
/// `AuthorizationKey`); `None` for no authentication (profile 0, test setups only).
const BASIC_AUTH_PASSWORD: Option<&str> = None;

/// What the BootNotification says.
const VENDOR: &str = "VendorX";
const MODEL: &str = "NucleoF429";
const FIRMWARE_VERSION: &str = env!("CARGO_PKG_VERSION");

/// How a charging session is started and stopped.
const SESSION: Session = Session::Button;
/// The token the driver "presents" (an RFID UID).
const ID_TOKEN: &str = "04A2B3C4";
/// The simulated meter reports to the station this often while the cable is in.
const METER_EVERY: Duration = Duration::from_secs(10);
/// The simulated charging power while the contactor is closed.
const CHARGING_POWER_W: f64 = 7_400.0;

/// The station's durable queue: flash bank 2, sectors 12-15, four sectors of 16 KiB at
/// 0x0810_0000-0x0810_FFFF (all of embassy-stm32's `Bank2Region1`). memory.x keeps the program
/// in bank 1, so nothing else is ever written here.
const STORE_RANGE: core::ops::Range<u32> = 0..STORE_LEN;
const STORE_LEN: u32 = 4 * 16 * 1024;
/// The longest record the station writes: its end-of-transaction reserve (`END_RESERVE` in
/// ocpp-station) is 2 KiB, and its records stay below it.
const LONGEST_RECORD: usize = 2048;
/// The station's `store_capacity`: the most its log may hold so that a compaction (an atomic
/// replace, old and new log side by side) always fits in the four sectors, even after a write
/// cut by a power loss (`FlashStore::store_capacity`, ocpp-embedded's flash.rs).
const STORE_CAPACITY: usize = FlashStore::<StoreFlash>::store_capacity(
    STORE_LEN as usize,
    ocpp_station::store::SHORTEST_RECORD,
    LONGEST_RECORD,
);

/// The heap: the station's state and messages, the flash store's item buffer (one sector:
/// 16 KiB), the log read at boot.
const HEAP_SIZE: usize = 64 * 1024;

/// How a session is driven.
#[allow(dead_code)] // one of them is configured
enum Session {
    /// The user button (B1): a press plugs the cable in and presents the token; the next one
    /// presents it again (which ends the transaction) and unplugs.
    Button,
    /// A session every `idle + charging`, without anyone pressing anything.
    Timer { idle: Duration, charging: Duration },
}

const _: () = assert!(
    match OCPP_VERSION {
        OcppVersion::V16 => cfg!(feature = "v16"),
        OcppVersion::V201 => cfg!(feature = "v201"),
        OcppVersion::V21 => cfg!(feature = "v21"),
    },
    "OCPP_VERSION is not compiled in: enable its cargo feature (v16, v201, v21)"
);
const _: () = assert!(STORE_CAPACITY > 0, "the store partition is too small");

// ---------------------------------------------------------------------------------------------
// The board.
// ---------------------------------------------------------------------------------------------

bind_interrupts!(struct Irqs {
    ETH => eth::InterruptHandler;
    HASH_RNG => rng::InterruptHandler<RNG>;
    FLASH => flash::InterruptHandler;
    EXTI15_10 => exti::InterruptHandler<interrupt::typelevel::EXTI15_10>;
});

type Device = Ethernet<'static, ETH, GenericPhy<Sma<'static, ETH_SMA>>>;

#[global_allocator]
static HEAP: LlffHeap = LlffHeap::empty();

/// Hardware events for the station, from the session task (an embassy-sync 0.7 channel: the
/// version ocpp-embedded's run loop takes).
static INPUTS: Channel<CriticalSectionRawMutex, Input, 8> = Channel::new();
/// The contactor (LD1, green) and whether it is closed (the simulated meter counts energy then).
static CONTACTOR: Mutex<CriticalSectionRawMutex, RefCell<Option<Output<'static>>>> =
    Mutex::new(RefCell::new(None));
static ENERGY_ON: AtomicBool = AtomicBool::new(false);
/// A reset the CSMS asked for, carried out by `reset_task`.
static RESET: Signal<CriticalSectionRawMutex, ResetKind> = Signal::new();

/// 168 MHz from the ST-LINK's 8 MHz clock (HSE bypass): PLL 8 / 4 × 168 / 2; the PLL's Q output
/// at 48 MHz feeds the RNG. The Ethernet MAC runs from HCLK (168 MHz, over the 25 MHz it needs
/// for 100 Mbit/s) and the PHY's 50 MHz RMII reference clock (the LAN8742A's own crystal).
fn clocks() -> Config {
    use embassy_stm32::rcc::{
        AHBPrescaler, APBPrescaler, Hse, HseMode, Pll, PllMul, PllPDiv, PllPreDiv, PllQDiv,
        PllSource, Sysclk,
    };
    let mut config = Config::default();
    config.rcc.hse = Some(Hse {
        freq: Hertz(8_000_000),
        mode: HseMode::Bypass,
    });
    config.rcc.pll_src = PllSource::HSE;
    config.rcc.pll = Some(Pll {
        prediv: PllPreDiv::DIV4,
        mul: PllMul::MUL168,
        divp: Some(PllPDiv::DIV2),
        divq: Some(PllQDiv::DIV7),
        divr: None,
    });
    config.rcc.sys = Sysclk::PLL1_P;
    config.rcc.ahb_pre = AHBPrescaler::DIV1;
    config.rcc.apb1_pre = APBPrescaler::DIV4;
    config.rcc.apb2_pre = APBPrescaler::DIV2;
    config
}

/// Flash bank 2's first four sectors as the flash store wants them. embassy-stm32 does not
/// mark its flash [`MultiwriteNorFlash`]; the STM32F42x/43x flash allows it (no ECC; RM0090:
/// programming again without an erase may only clear bits), which the store's queue needs to
/// mark items removed in place.
struct StoreFlash(Bank2Region1<'static>);

impl ErrorType for StoreFlash {
    type Error = flash::Error;
}

impl ReadNorFlash for StoreFlash {
    const READ_SIZE: usize = <Bank2Region1<'static> as ReadNorFlash>::READ_SIZE;

    async fn read(&mut self, offset: u32, bytes: &mut [u8]) -> Result<(), Self::Error> {
        ReadNorFlash::read(&mut self.0, offset, bytes).await
    }

    fn capacity(&self) -> usize {
        ReadNorFlash::capacity(&self.0)
    }
}

impl NorFlash for StoreFlash {
    const WRITE_SIZE: usize = <Bank2Region1<'static> as NorFlash>::WRITE_SIZE;
    const ERASE_SIZE: usize = <Bank2Region1<'static> as NorFlash>::ERASE_SIZE;

    async fn write(&mut self, offset: u32, bytes: &[u8]) -> Result<(), Self::Error> {
        NorFlash::write(&mut self.0, offset, bytes).await
    }

    async fn erase(&mut self, from: u32, to: u32) -> Result<(), Self::Error> {
        NorFlash::erase(&mut self.0, from, to).await
    }
}

impl MultiwriteNorFlash for StoreFlash {}

type Store = FlashStore<StoreFlash>;

/// The station's hardware: the contactor is LD1; unlocking only logs (no lock on this board);
/// a reset restarts the MCU once the CSMS has its answer.
struct Charger;

impl Hardware for Charger {
    fn set_energy(&mut self, connector: ConnectorId, on: bool) {
        info!(
            "connector {}: contactor {}",
            connector,
            if on { "closed" } else { "open" }
        );
        ENERGY_ON.store(on, Ordering::Relaxed);
        CONTACTOR.lock(|contactor| {
            if let Some(led) = contactor.borrow_mut().as_mut() {
                led.set_level(if on { Level::High } else { Level::Low });
            }
        });
    }

    fn unlock(&mut self, connector: ConnectorId) -> UnlockResult {
        info!(
            "connector {}: unlock requested (no lock on this board)",
            connector
        );
        UnlockResult::Unlocked
    }

    fn reset(&mut self, kind: ResetKind) {
        warn!("reset requested: {}", Debug2Format(&kind));
        RESET.signal(kind);
    }
}

// ---------------------------------------------------------------------------------------------
// The connection: TCP through embassy-net, the name resolved by its DNS client.
// ---------------------------------------------------------------------------------------------

/// Opens a TCP connection to the CSMS for each attempt of the run loop, on one socket kept here
/// (the run loop drops the stream, not the socket, when a connection ends).
struct Tcp {
    stack: Stack<'static>,
    socket: TcpSocket<'static>,
}

/// Why a connection could not be opened.
#[derive(Debug)]
#[allow(dead_code)] // read through Debug, in the run loop's ConnectFailed event
enum TcpError {
    Dns(embassy_net::dns::Error),
    NoAddress,
    Connect(embassy_net::tcp::ConnectError),
}

impl Connect for Tcp {
    type Stream<'s> = Shared<&'s mut TcpSocket<'static>>;
    type Error = TcpError;

    async fn connect(&mut self, endpoint: &Endpoint) -> Result<Self::Stream<'_>, TcpError> {
        // The previous connection, if the run loop gave it up (a lost CSMS, a ping without
        // pong, a timeout): reset it, so that the CSMS is not left with a half-open connection
        // of this identity.
        if self.socket.state() != State::Closed {
            self.socket.abort();
            let _ = with_timeout(Duration::from_secs(1), self.socket.flush()).await;
        }
        // No address (the link is down, or DHCP has not answered yet): wait for one, within
        // the run loop's connect timeout.
        self.stack.wait_config_up().await;
        // An IPv4 address is taken as it is; a name is asked of the DNS server.
        let addresses = self
            .stack
            .dns_query(endpoint.host(), DnsQueryType::A)
            .await
            .map_err(TcpError::Dns)?;
        let address = *addresses.first().ok_or(TcpError::NoAddress)?;
        info!("connecting to {}:{}", address, endpoint.port());
        self.socket
            .connect((address, endpoint.port()))
            .await
            .map_err(TcpError::Connect)?;
        Ok(Shared::new(&mut self.socket))
    }
}

#[embassy_executor::task]
async fn net_task(mut runner: embassy_net::Runner<'static, Device>) -> ! {
    runner.run().await
}

// ---------------------------------------------------------------------------------------------
// The simulated charging session and the reset.
// ---------------------------------------------------------------------------------------------

const CONNECTOR: ConnectorId = 1;

/// Plugs in, presents the token, reports the meter every `METER_EVERY` while the cable is in,
/// then presents the token again (the same token ends the transaction) and unplugs.
#[embassy_executor::task]
async fn session_task(mut button: ExtiInput<'static, Async>) {
    let mut energy_wh = 0.0_f64;
    loop {
        wait(&SESSION, &mut button, true).await;
        info!("session: cable in, token {}", ID_TOKEN);
        INPUTS.send(Input::PlugIn(CONNECTOR)).await;
        Timer::after_secs(1).await;
        INPUTS
            .send(Input::Token(CONNECTOR, IdToken::rfid(ID_TOKEN)))
            .await;

        // The end of the session is awaited across meter ticks, never dropped half-way (a
        // press caught during a tick would be lost).
        let mut stop = pin!(wait(&SESSION, &mut button, false));
        let mut ticker = Ticker::every(METER_EVERY);
        let mut last = Instant::now();
        loop {
            let stopped = select(stop.as_mut(), ticker.next()).await;
            let now = Instant::now();
            let power_w = if ENERGY_ON.load(Ordering::Relaxed) {
                CHARGING_POWER_W
            } else {
                0.0
            };
            energy_wh += power_w * (now - last).as_millis() as f64 / 3_600_000.0;
            last = now;
            INPUTS
                .send(Input::Meter(CONNECTOR, Reading { energy_wh, power_w }))
                .await;
            if let Either::First(()) = stopped {
                break;
            }
        }

        info!(
            "session: token again, cable out ({} Wh on the meter)",
            energy_wh as u32
        );
        INPUTS
            .send(Input::Token(CONNECTOR, IdToken::rfid(ID_TOKEN)))
            .await;
        Timer::after_secs(2).await;
        INPUTS.send(Input::Unplug(CONNECTOR)).await;
    }
}

/// The start (`start`) or the end of a session, as configured.
async fn wait(session: &Session, button: &mut ExtiInput<'static, Async>, start: bool) {
    match session {
        Session::Button => {
            button.wait_for_rising_edge().await;
            // Debounce: B1 is a bare switch with an RC filter.
            Timer::after_millis(50).await;
            button.wait_for_low().await;
        }
        Session::Timer { idle, charging } => {
            Timer::after(if start { *idle } else { *charging }).await;
        }
    }
}

/// Restarts the MCU a moment after the station asked for it (it has handed the CSMS its
/// answer; this lets TCP deliver it).
#[embassy_executor::task]
async fn reset_task() {
    let kind = RESET.wait().await;
    Timer::after_secs(2).await;
    info!("resetting ({})", Debug2Format(&kind));
    cortex_m::peripheral::SCB::sys_reset();
}

// ---------------------------------------------------------------------------------------------
// Boot.
// ---------------------------------------------------------------------------------------------

fn now() -> Millis {
    Millis(Instant::now().as_millis())
}

/// The station from what the store holds. A store that cannot be read, or holds records this
/// firmware does not know (an older or newer format), is erased: the station starts empty
/// rather than not at all (what was queued in it is lost).
async fn restore(mut store: Store, config: &StationConfig) -> (Station<Charger>, Store) {
    match store.load().await {
        Ok(records) => {
            info!("store: {} records", records.len());
            match Station::new(config.clone(), Charger, &records, now()) {
                Ok(station) => return (station, store),
                Err(error) => error!("store: records not understood: {}", Debug2Format(&error)),
            }
        }
        Err(error) => error!("store: load failed: {}", Debug2Format(&error)),
    }
    warn!("store: erasing the partition");
    let mut flash = store.into_inner();
    if let Err(error) = NorFlash::erase(&mut flash, STORE_RANGE.start, STORE_RANGE.end).await {
        error!("store: erase failed: {}", error);
    }
    let store = unwrap!(Store::new(flash, STORE_RANGE).ok());
    let station = unwrap!(Station::new(config.clone(), Charger, &[], now()).ok());
    (station, store)
}

#[embassy_executor::main]
async fn main(spawner: Spawner) {
    {
        static mut MEMORY: [MaybeUninit<u8>; HEAP_SIZE] = [MaybeUninit::uninit(); HEAP_SIZE];
        // SAFETY: the heap's memory is handed over once, here, before anything allocates, and
        // is never touched otherwise.
        #[allow(static_mut_refs)]
        unsafe {
            HEAP.init(MEMORY.as_mut_ptr() as usize, HEAP_SIZE);
        }
    }
    let p = embassy_stm32::init(clocks());
    info!(
        "ocpp-firmware {}: {} as {} (store capacity {} bytes)",
        FIRMWARE_VERSION,
        Debug2Format(&OCPP_VERSION),
        STATION_IDENTITY,
        STORE_CAPACITY
    );

    // Errata ES0206 2.2.11: reads from flash bank 2 may be corrupted while PA12 toggles, on
    // chips before revision 3; embassy-stm32 refuses such reads unless PA12 is an output held
    // low with its pull-down (PA12 is USB OTG FS D+, unused here).
    let pa12 = OutputOpenDrain::new_pull(p.PA12, Level::Low, Speed::Low, Pull::Down);
    core::mem::forget(pa12);

    CONTACTOR.lock(|contactor| {
        contactor.replace(Some(Output::new(p.PB0, Level::Low, Speed::Low)));
    });
    let mut link_led = Output::new(p.PB7, Level::Low, Speed::Low); // LD2, blue: connected
    let button = ExtiInput::new(p.PC13, p.EXTI13, Pull::Down, Irqs); // B1, active high

    let mut rng = Rng::new(p.RNG, Irqs);
    let mut seed = [0; 8];
    unwrap!(rng.async_fill_bytes(&mut seed).await);

    // The MAC address from the chip's unique ID (locally administered, unicast): a product
    // uses an address from its own OUI instead.
    let uid = embassy_stm32::uid::uid();
    let mac = [
        0x02,
        uid[0] ^ uid[4],
        uid[1] ^ uid[5],
        uid[2] ^ uid[8],
        uid[3] ^ uid[9],
        uid[10] ^ uid[11],
    ];
    // NUCLEO-F429ZI's RMII wiring to the LAN8742A (PHY address 0, found by the driver).
    static PACKETS: StaticCell<PacketQueue<4, 4>> = StaticCell::new();
    let device = Ethernet::new(
        PACKETS.init(PacketQueue::new()),
        p.ETH,
        Irqs,
        p.PA1,  // REF_CLK
        p.PA7,  // CRS_DV
        p.PC4,  // RXD0
        p.PC5,  // RXD1
        p.PG13, // TXD0
        p.PB13, // TXD1
        p.PG11, // TX_EN
        mac,
        p.ETH_SMA,
        p.PA2, // MDIO
        p.PC1, // MDC
    );
    // DHCP, a DNS socket, and the CSMS's TCP socket.
    static RESOURCES: StaticCell<StackResources<3>> = StaticCell::new();
    let (stack, runner) = embassy_net::new(
        device,
        embassy_net::Config::dhcpv4(Default::default()),
        RESOURCES.init(StackResources::new()),
        u64::from_le_bytes(seed),
    );
    spawner.spawn(unwrap!(net_task(runner)));
    spawner.spawn(unwrap!(session_task(button)));
    spawner.spawn(unwrap!(reset_task()));

    // The store and the station.
    let region = Flash::new(p.FLASH, Irqs).into_regions().bank2_region1;
    let store = unwrap!(Store::new(StoreFlash(region), STORE_RANGE).ok());
    let serial: String = embassy_stm32::uid::uid_hex().into();
    let mut config = StationConfig::new(
        OCPP_VERSION,
        BootInfo {
            vendor: VENDOR.into(),
            model: MODEL.into(),
            serial_number: Some(serial),
            firmware_version: Some(FIRMWARE_VERSION.into()),
        },
        1,
    );
    config.store_capacity = STORE_CAPACITY;
    let (station, store) = restore(store, &config).await;

    let url = format!("ws://{CSMS_HOST}:{CSMS_PORT}{CSMS_PATH}/{STATION_IDENTITY}");
    let mut run_config = unwrap!(RunConfig::new(&url).ok());
    run_config.password = BASIC_AUTH_PASSWORD.map(Into::into);

    // The largest message the CSMS may send is the read buffer (less 14 bytes of frame
    // header): 8 KiB covers a GetBaseReport answer's frames and any SetVariables this station
    // takes. The write buffer only stages frames going out.
    static READ_BUF: ConstStaticCell<[u8; 8192]> = ConstStaticCell::new([0; 8192]);
    static WRITE_BUF: ConstStaticCell<[u8; 1024]> = ConstStaticCell::new([0; 1024]);
    let mut runner = Runner::new(
        station,
        store,
        run_config,
        READ_BUF.take(),
        WRITE_BUF.take(),
    );

    static TCP_RX: ConstStaticCell<[u8; 4096]> = ConstStaticCell::new([0; 4096]);
    static TCP_TX: ConstStaticCell<[u8; 4096]> = ConstStaticCell::new([0; 4096]);
    let mut socket = TcpSocket::new(stack, TCP_RX.take(), TCP_TX.take());
    // A dead peer is found by TCP keep-alives and the run loop's WebSocket pings.
    socket.set_keep_alive(Some(Duration::from_secs(30)));
    socket.set_timeout(Some(Duration::from_secs(90)));
    let mut tcp = Tcp { stack, socket };

    info!("connecting to {}", url.as_str());
    loop {
        let failure = runner
            .run(
                &mut tcp,
                &INPUTS,
                || rng.next_u32(),
                |event| {
                    match &event {
                        Event::Connected(_) => link_led.set_high(),
                        Event::Disconnected(_) | Event::ConnectFailed(_) => link_led.set_low(),
                        _ => {}
                    }
                    info!("{}", Debug2Format(&event));
                },
            )
            .await;
        // Only the store stops the loop: its write is kept and performed first by the next
        // run. A full store stays full until the station compacts its log (it retries).
        error!("{}; running again in 10 s", Debug2Format(&failure));
        Timer::after_secs(10).await;
    }
}
