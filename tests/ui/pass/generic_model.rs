use logged_model::{logged_model, Logged, LoggerBuilder, Model};
use serde::Serialize;
use std::fmt::Debug;
use std::marker::PhantomData;

pub struct Input<T> {
    pub value: T,
}

pub struct Output<T> {
    pub echoed: T,
}

pub struct Echo<T, const N: usize>(PhantomData<T>);

#[logged_model(input_fields = [value], output_fields = [echoed])]
impl<T, const N: usize> Model for Echo<T, N>
where
    T: Serialize + Clone + Debug,
{
    type Input = Input<T>;
    type Output = Output<T>;
    type Error = String;
    fn qualified_name(&self) -> &str { "echo" }
    fn version(&self) -> &str { "1" }
    fn predict(&self, input: &Input<T>) -> Result<Output<T>, String> {
        Ok(Output { echoed: input.value.clone() })
    }
}

fn main() {
    let (logger, _guard) = LoggerBuilder::new().build_with_writer(std::io::sink()).unwrap();
    let model = Logged::new(Echo::<Vec<u8>, 3>(PhantomData), &logger).unwrap();
    assert_eq!(model.predict(&Input { value: vec![1, 2] }).unwrap().echoed, vec![1, 2]);
}
