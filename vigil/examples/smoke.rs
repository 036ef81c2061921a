use std::time::{Duration, Instant};
fn main() {
    let rt = vigil::runtime::Builder::new_current_thread().build().unwrap();
    let v = rt.block_on(async {
        let h = vigil::spawn(async { 1 + 1 });
        let s = Instant::now();
        vigil::time::sleep(Duration::from_millis(20)).await;
        println!("slept {:?}", s.elapsed());
        h.await.unwrap()
    });
    println!("ct: {v}");
    let rt = vigil::runtime::Builder::new_multi_thread().worker_threads(2).build().unwrap();
    let v = rt.block_on(async {
        let mut hs = Vec::new();
        for i in 0..100_000u64 { hs.push(vigil::spawn(async move { i })); }
        let mut sum = 0; for h in hs { sum += h.await.unwrap(); }
        let s = Instant::now();
        vigil::time::sleep(Duration::from_millis(20)).await;
        println!("slept {:?}", s.elapsed());
        sum
    });
    println!("mt: {v}");
    drop(rt);
    println!("dropped");
}
