use logged_model::{logged_model, AsyncModel, Logged, LoggerBuilder};

pub struct Input {
    pub customer_id: u64,
}

pub struct Output {
    pub score: f32,
}

pub struct Enriching;

#[logged_model(input_fields = [customer_id], output_fields = [score])]
impl AsyncModel for Enriching {
    type Input = Input;
    type Output = Output;
    type Error = std::io::Error;
    fn qualified_name(&self) -> &str { "enriching" }
    fn version(&self) -> &str { "1" }
    async fn predict(&self, input: &Input) -> Result<Output, std::io::Error> {
        Ok(Output { score: input.customer_id as f32 })
    }
}

fn assert_send<T: Send>(_: &T) {}

fn main() {
    let (logger, _guard) = LoggerBuilder::new().build_with_writer(std::io::sink()).unwrap();
    let model = Logged::new(Enriching, &logger).unwrap();
    let input = Input { customer_id: 3 };
    let prediction = model.predict(&input);
    assert_send(&prediction);
}
